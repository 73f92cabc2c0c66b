/**
 * How containerd invokes a shim v2 binary (pure; runtime/v2 "binary.go" behaviour of 1.6):
 *   start:  <shim> -namespace <ns> -address <addr> -publish-binary <bin> -id <id> [-debug] start
 *           cwd = the bundle, env TTRPC_ADDRESS=<events socket>; prints the ttrpc address.
 *   delete: <shim> -namespace <ns> -address <addr> -publish-binary <bin> -id <id> -bundle <dir> delete
 *           cwd = the bundle; prints a DeleteResponse (protobuf) on stdout.
 * A runc v2 shim places its socket at /run/containerd/s/sha256(<addr>/<ns>/<group>), where group
 * is the io.kubernetes.cri.sandbox-id (or io.containerd.runc.v2.group) annotation of the bundle's
 * config.json, else the id; `start` for a later container of the same pod finds that socket alive
 * and prints the same address (one shim per pod).
 */
import { basename } from 'node:path';
import { invalidArgument } from '../../util/errors.js';

export interface ShimCommandConfig {
  namespace: string;
  /** -address: berth's own API socket (also salts the shim's socket path). */
  address: string;
  /** -publish-binary (shims with TTRPC_ADDRESS set publish over ttrpc and never call it). */
  publishBinary: string;
  /** TTRPC_ADDRESS: the events socket. */
  eventsAddress: string;
  debug?: boolean;
}

const ID_RE = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const MAX_ID_LENGTH = 76;

/** containerd's identifier rule (the shim and runc refuse others). */
export function validateId(id: string, what = 'id'): void {
  if (!id || id.length > MAX_ID_LENGTH || !ID_RE.test(id)) {
    throw invalidArgument(
      `${what} ${JSON.stringify(id)} is not a valid shim identifier (letters, digits, and . _ - between them, at most ${MAX_ID_LENGTH} characters)`,
    );
  }
}

/** The dead-shim `delete` derives the bundle as dirname(cwd)/<id>, so the bundle dir must be named <id>. */
export function validateBundle(id: string, bundle: string): void {
  validateId(id);
  if (!bundle.startsWith('/')) throw invalidArgument(`bundle for ${id} must be an absolute path, got ${JSON.stringify(bundle)}`);
  if (basename(bundle) !== id) {
    throw invalidArgument(`bundle directory ${bundle} must be named after its id ${id} (the shim derives one from the other)`);
  }
}

function commonArgs(c: ShimCommandConfig): string[] {
  return ['-namespace', c.namespace, '-address', c.address, '-publish-binary', c.publishBinary];
}

export function startArgs(c: ShimCommandConfig, id: string): string[] {
  return [...commonArgs(c), '-id', id, ...(c.debug ? ['-debug'] : []), 'start'];
}

export function deleteArgs(c: ShimCommandConfig, id: string, bundle: string): string[] {
  return [...commonArgs(c), '-id', id, '-bundle', bundle, 'delete'];
}

export function shimEnv(c: ShimCommandConfig, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, GOMAXPROCS: '2', TTRPC_ADDRESS: c.eventsAddress };
}

/** The address `start` printed ("unix:///run/containerd/s/<hash>"), or undefined if it is not one. */
export function parseStartOutput(stdout: string): string | undefined {
  const address = stdout.trim();
  if (!/^unix:\/\/\S+$/.test(address) && !/^\/\S+$/.test(address)) return undefined;
  return address;
}
