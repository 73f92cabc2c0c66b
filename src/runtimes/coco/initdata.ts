/**
 * CoCo initdata: a TOML document the TEE measures at VM start (TDX MRCONFIGID, SNP HOSTDATA)
 * and the guest hands to its components, passed to Kata in the sandbox annotation
 * io.katacontainers.config.hypervisor.cc_init_data as base64(gzip(TOML)):
 *
 *   version = "0.1.0"
 *   algorithm = "sha384"            # sha256 | sha384 | sha512
 *   [data]
 *   "aa.toml" = '''…'''             # attestation agent: where the KBS is
 *   "cdh.toml" = '''…'''            # confidential data hub: KBC name and KBS URL
 *   "policy.rego" = '''…'''         # the Kata agent policy
 *
 * Built from the handler's config, or taken from the pod after validation. Pure, except
 * gzip (synchronous zlib).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { invalidArgument, messageOf } from '../../util/errors.js';
import { parseToml, tomlBlock, tomlString, type TomlTable } from '../kata/toml.js';

export const INITDATA_ANNOTATION = 'io.katacontainers.config.hypervisor.cc_init_data';
export const AGENT_POLICY_ANNOTATION = 'io.katacontainers.config.agent.policy';
export const INITDATA_VERSION = '0.1.0';
export const INITDATA_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const;
export type InitdataAlgorithm = (typeof INITDATA_ALGORITHMS)[number];

/** Decoded initdata larger than this is refused (it travels in a VM's firmware config). */
const MAX_INITDATA_BYTES = 256 * 1024;

export interface Initdata {
  version: string;
  algorithm: InitdataAlgorithm;
  /** Keyed documents: "aa.toml", "cdh.toml", "policy.rego" (others are passed on as they are). */
  data: Record<string, string>;
}

export class InitdataError extends Error {
  override name = 'InitdataError';
}

/** The initdata TOML text, in the layout Kata's own tooling writes. */
export function initdataToml(d: Initdata): string {
  const lines = [`version = ${tomlString(d.version)}`, `algorithm = ${tomlString(d.algorithm)}`, '[data]'];
  for (const [k, v] of Object.entries(d.data)) lines.push(`${tomlString(k)} = ${tomlBlock(v)}`, '');
  return `${lines.join('\n').trimEnd()}\n`;
}

/** Parse and validate initdata TOML: version 0.1.0, a known algorithm, [data] of strings whose .toml entries parse. */
export function parseInitdata(text: string): Initdata {
  let doc: TomlTable;
  try {
    doc = parseToml(text);
  } catch (err) {
    throw new InitdataError(`not valid TOML: ${messageOf(err)}`);
  }
  const unknown = Object.keys(doc).filter((k) => !['version', 'algorithm', 'data'].includes(k));
  if (unknown.length) throw new InitdataError(`unknown top-level key(s) ${unknown.join(', ')} (expected version, algorithm, [data])`);
  if (doc.version !== INITDATA_VERSION) throw new InitdataError(`version is ${JSON.stringify(doc.version)}, expected "${INITDATA_VERSION}"`);
  const algorithm = doc.algorithm;
  if (typeof algorithm !== 'string' || !(INITDATA_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new InitdataError(`algorithm is ${JSON.stringify(algorithm)}, expected one of ${INITDATA_ALGORITHMS.join(', ')}`);
  }
  const raw = doc.data ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InitdataError('data must be a table');
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new InitdataError(`data.${JSON.stringify(k)} must be a string`);
    if (k.endsWith('.toml')) {
      try {
        parseToml(v);
      } catch (err) {
        throw new InitdataError(`data.${JSON.stringify(k)} is not valid TOML: ${messageOf(err)}`);
      }
    }
    data[k] = v;
  }
  return { version: INITDATA_VERSION, algorithm: algorithm as InitdataAlgorithm, data };
}

/** Strict standard base64 with padding (what Kata's Go decoder accepts). */
function strictBase64(value: string, what: string): Buffer {
  const s = value.trim();
  if (s.length === 0) throw new InitdataError(`${what} is empty`);
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new InitdataError(`${what} is not standard base64 (with padding)`);
  return Buffer.from(s, 'base64');
}

/** base64(gzip(text)). */
export function encodeInitdata(text: string): string {
  return gzipSync(Buffer.from(text, 'utf8')).toString('base64');
}

/** The TOML text inside an annotation value (base64 → gunzip). */
export function decodeInitdata(annotation: string): string {
  const gz = strictBase64(annotation, 'the value');
  try {
    return gunzipSync(gz, { maxOutputLength: MAX_INITDATA_BYTES }).toString('utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') throw new InitdataError(`decompresses to more than ${MAX_INITDATA_BYTES} bytes`);
    throw new InitdataError(`is not gzip data (${messageOf(err)})`);
  }
}

/** A pod's cc_init_data annotation, validated: INVALID_ARGUMENT naming what is wrong. */
export function validateInitdataAnnotation(value: string): Initdata {
  try {
    return parseInitdata(decodeInitdata(value));
  } catch (err) {
    if (err instanceof InitdataError) throw invalidArgument(`pod annotation ${INITDATA_ANNOTATION} is not valid initdata: ${err.message}`);
    throw err;
  }
}

/** A pod's agent policy annotation, validated: base64 of a non-empty Rego document. */
export function validateAgentPolicyAnnotation(value: string): string {
  try {
    const text = strictBase64(value, 'the value').toString('utf8');
    if (!/\bpackage\s+agent_policy\b/.test(text)) throw new InitdataError('the decoded policy does not declare "package agent_policy"');
    return text;
  } catch (err) {
    if (err instanceof InitdataError) throw invalidArgument(`pod annotation ${AGENT_POLICY_ANNOTATION} is not a valid agent policy: ${err.message}`);
    throw err;
  }
}

export interface InitdataSettings {
  kbsUrl?: string;
  /** Rego text of the agent policy. */
  policy?: string;
  algorithm: InitdataAlgorithm;
}

/** Initdata from a handler's settings: aa.toml and cdh.toml pointing at the KBS, and the policy. */
export function buildInitdata(s: InitdataSettings): Initdata {
  const data: Record<string, string> = {};
  if (s.kbsUrl) {
    const url = tomlString(s.kbsUrl);
    data['aa.toml'] = `[token_configs]\n[token_configs.kbs]\nurl = ${url}\n`;
    data['cdh.toml'] = `[kbc]\nname = "cc_kbc"\nurl = ${url}\n`;
  }
  if (s.policy !== undefined) data['policy.rego'] = s.policy;
  return { version: INITDATA_VERSION, algorithm: s.algorithm, data };
}

/**
 * The digest the TEE reports for this initdata (Kata's rule: hash the TOML text with its
 * algorithm, then truncate or zero-pad to the platform's field: TDX 48 bytes, SNP 32), base64.
 * This is the reference value a KBS policy checks.
 */
export function initdataDigest(text: string, algorithm: InitdataAlgorithm, tee: 'tdx' | 'snp' | 'none'): string {
  const digest = createHash(algorithm).update(text, 'utf8').digest();
  const len = tee === 'tdx' ? 48 : tee === 'snp' ? 32 : digest.length;
  const out = Buffer.alloc(len);
  digest.copy(out, 0, 0, Math.min(len, digest.length));
  return out.toString('base64');
}
