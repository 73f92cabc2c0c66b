/** Content digests: only sha256 is stored; anything else is refused with a clear reason. */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../util/errors.js';

const SHA256 = /^sha256:[a-f0-9]{64}$/;
/** The OCI digest grammar (algorithm ":" encoded), to tell "unsupported" from "malformed". */
const ANY_DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isSha256Digest(s: string): boolean {
  return SHA256.test(s);
}

/** Validate a digest from a reference, descriptor or header; `what` names it in the error. */
export function requireDigest(s: unknown, what: string): string {
  if (typeof s === 'string' && SHA256.test(s)) return s;
  if (typeof s === 'string' && s.startsWith('sha256:')) {
    throw invalidArgument(`${what}: malformed digest ${JSON.stringify(s)} (sha256 digests are 64 lowercase hex digits)`);
  }
  if (typeof s === 'string' && ANY_DIGEST.test(s)) {
    throw invalidArgument(`${what}: unsupported digest ${JSON.stringify(s)} (only sha256:<64 hex> is supported)`);
  }
  throw invalidArgument(`${what}: malformed digest ${JSON.stringify(s)}`);
}

export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function sha256Of(data: Uint8Array | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}
