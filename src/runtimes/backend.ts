/**
 * A runtime backend is what differs between runtime handlers (ARCHITECTURE.md, "Why shim v2
 * for every backend"): which shim binary and options, how specs and annotations are
 * adjusted, where images are unpacked, and what the host must provide. Everything else —
 * shim start, task API, state — is one code path.
 */
import type { Any } from '../gen/google/protobuf/any.js';
import type { HandlerConfig } from '../daemon/config.js';
import type { Spec } from './oci/spec-types.js';

export type BackendType = HandlerConfig['type'];

/** Result of checking the host for what a handler needs. */
export interface HostSupport {
  ok: boolean;
  /** Each missing piece, said precisely (binary name and where it was looked for, device, kernel flag). */
  missing: string[];
  /** Resolved binaries, for the verbose status. */
  found: Record<string, string>;
  checkedAt: number;
}

/** Host facts some backends check against (detected once by the daemon). */
export interface HostCgroupInfo {
  mode: 'v1' | 'hybrid' | 'v2';
  /** Controllers on the cgroup2 hierarchy (in hybrid mode they make crun refuse to run). */
  unifiedControllers: string[];
}

export interface SpecContext {
  podId: string;
  containerId: string;
  kind: 'sandbox' | 'container';
  podAnnotations: Record<string, string>;
  containerAnnotations: Record<string, string>;
}

export interface RuntimeBackend {
  readonly name: string;
  readonly type: BackendType;
  readonly config: HandlerConfig;
  /** Shim binary as configured (resolved through PATH when started). */
  readonly shimBinary: string;
  /** Options Any for the shim's start and Create (runc: containerd.runc.v1.Options); `runtimeRoot` is berth's runc state dir. */
  shimOptions(runtimeRoot: string): Any | undefined;
  /** Check the host (cached by the registry). */
  checkHost(): Promise<HostSupport>;
  /** Adjust a generated spec for this backend (annotations pass-through, VM sizing …). */
  adjustSpec(spec: Spec, ctx: SpecContext): void;
  /** Are image layers unpacked on the host (runc, kata) or pulled in the guest (coco)? */
  readonly imagePull: 'host' | 'guest';
}

/** Does `key` match one of the allowlist patterns (exact, or prefix with a trailing "*")? */
export function annotationAllowed(key: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? key.startsWith(p.slice(0, -1)) : key === p));
}

/** Copy allowlisted annotations into the spec, as containerd's pod_annotations does. */
export function passThroughAnnotations(spec: Spec, ctx: SpecContext, cfg: HandlerConfig): void {
  spec.annotations ??= {};
  for (const [k, v] of Object.entries(ctx.podAnnotations)) if (annotationAllowed(k, cfg.podAnnotations)) spec.annotations[k] = v;
  if (ctx.kind === 'container') {
    for (const [k, v] of Object.entries(ctx.containerAnnotations)) {
      if (annotationAllowed(k, cfg.containerAnnotations)) spec.annotations[k] = v;
    }
  }
}
