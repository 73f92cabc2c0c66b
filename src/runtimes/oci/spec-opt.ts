import type { Logger } from '../../util/log.js';
import type { HostProbes } from './inputs.js';
import type { Linux, LinuxCapabilities, LinuxResources, Process, Spec } from './spec-types.js';

/** What a spec option may use besides its own arguments: injected I/O and a logger. */
export interface OptContext {
  probes: HostProbes;
  log: Logger;
}

/**
 * One small, composable change to a spec. Most options are synchronous and pure; the few
 * that need the host (user lookup, devices, mount sources, seccomp files) go through
 * `ctx.probes` or read the rootfs, and return a promise.
 */
export type SpecOpt = (spec: Spec, ctx: OptContext) => void | Promise<void>;

/** Apply options in order; each sees the spec as the previous ones left it. */
export async function applyOpts(spec: Spec, ctx: OptContext, opts: readonly SpecOpt[]): Promise<Spec> {
  for (const opt of opts) await opt(spec, ctx);
  return spec;
}

export function ensureProcess(spec: Spec): Process {
  spec.process ??= { user: { uid: 0, gid: 0 }, cwd: '/' };
  return spec.process;
}

export function ensureLinux(spec: Spec): Linux {
  spec.linux ??= {};
  return spec.linux;
}

export function ensureResources(spec: Spec): LinuxResources {
  const linux = ensureLinux(spec);
  linux.resources ??= {};
  return linux.resources;
}

export function ensureCapabilities(spec: Spec): LinuxCapabilities {
  const proc = ensureProcess(spec);
  proc.capabilities ??= {};
  return proc.capabilities;
}

export function setAnnotation(spec: Spec, key: string, value: string): void {
  spec.annotations ??= {};
  spec.annotations[key] = value;
}

/** int64 from the CRI (bigint) to a JS number, refusing values a spec cannot carry exactly. */
export function toSafeNumber(v: bigint, what: string, onError: (msg: string) => Error): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw onError(`${what} ${v} is out of range`);
  }
  return Number(v);
}

/** The text of a CRI KeyValue value, whether the generated type is string or bytes. */
export function kvText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}
