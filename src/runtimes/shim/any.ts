/**
 * protobuf Any packing for the shim v2 API. containerd resolves Any payloads with its own
 * `typeurl` registry, so the type URLs are NOT the usual "type.googleapis.com/…" ones:
 *  - proto messages use their bare full name ("containerd.runc.v1.Options"),
 *  - OCI runtime-spec structs are JSON under "types.containerd.io/opencontainers/runtime-spec/1/<Type>".
 * The runc shim rejects an options Any with any other URL ("type with url … not found").
 */
import { Any } from '../../gen/google/protobuf/any.js';
import { CheckpointOptions, Options, ProcessDetails } from '../../gen/containerd/runc/v1/options.js';
import { Metrics as V1Metrics } from '../../gen/containerd/cgroups/v1/metrics.js';
import { Metrics as V2Metrics } from '../../gen/containerd/cgroups/v2/metrics.js';
import type { Timestamp } from '../../gen/google/protobuf/timestamp.js';
import { invalidArgument } from '../../util/errors.js';

export const TYPE_URL = {
  runcOptions: 'containerd.runc.v1.Options',
  runcCheckpointOptions: 'containerd.runc.v1.CheckpointOptions',
  runcProcessDetails: 'containerd.runc.v1.ProcessDetails',
  ociSpec: 'types.containerd.io/opencontainers/runtime-spec/1/Spec',
  ociProcess: 'types.containerd.io/opencontainers/runtime-spec/1/Process',
  ociLinuxResources: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources',
  cgroupsV1Metrics: 'io.containerd.cgroups.v1.Metrics',
  cgroupsV2Metrics: 'io.containerd.cgroups.v2.Metrics',
} as const;

export type RuncOptions = Options;
export type RuncCheckpointOptions = CheckpointOptions;

/** Options for containerd-shim-runc-v2 (binaryName "crun" selects crun, root the state dir …). */
export function packRuncOptions(opts: Partial<RuncOptions>): Any {
  return Any.fromPartial({
    typeUrl: TYPE_URL.runcOptions,
    value: Buffer.from(Options.encode(Options.fromPartial(opts)).finish()),
  });
}

export function unpackRuncOptions(any: Any): RuncOptions {
  if (any.typeUrl !== TYPE_URL.runcOptions) throw invalidArgument(`expected ${TYPE_URL.runcOptions}, got ${any.typeUrl}`);
  return Options.decode(any.value);
}

export function packRuncCheckpointOptions(opts: Partial<RuncCheckpointOptions>): Any {
  return Any.fromPartial({
    typeUrl: TYPE_URL.runcCheckpointOptions,
    value: Buffer.from(CheckpointOptions.encode(CheckpointOptions.fromPartial(opts)).finish()),
  });
}

/** An OCI runtime-spec object (Process, LinuxResources, Spec) as the JSON Any the shims decode. */
export function packOciJson(typeUrl: string, value: unknown): Any {
  if (value === null || typeof value !== 'object') throw invalidArgument(`${typeUrl} must be a JSON object`);
  return Any.fromPartial({ typeUrl, value: Buffer.from(JSON.stringify(value)) });
}

export type StatsMetrics =
  | { version: 'v1'; metrics: V1Metrics }
  | { version: 'v2'; metrics: V2Metrics }
  | { version: 'unknown'; typeUrl: string; value: Buffer };

/** Decode Task.Stats' Any (cgroup v1 or v2 metrics, by type URL). */
export function unpackStats(any: Any | undefined): StatsMetrics {
  if (!any) return { version: 'unknown', typeUrl: '', value: Buffer.alloc(0) };
  switch (stripPrefix(any.typeUrl)) {
    case TYPE_URL.cgroupsV1Metrics:
      return { version: 'v1', metrics: V1Metrics.decode(any.value) };
    case TYPE_URL.cgroupsV2Metrics:
      return { version: 'v2', metrics: V2Metrics.decode(any.value) };
    default:
      return { version: 'unknown', typeUrl: any.typeUrl, value: any.value };
  }
}

/** Task.Pids' per-process info: runc reports the exec id of exec'd processes. */
export function unpackProcessExecId(any: Any | undefined): string | undefined {
  if (!any || stripPrefix(any.typeUrl) !== TYPE_URL.runcProcessDetails) return undefined;
  return ProcessDetails.decode(any.value).execId || undefined;
}

/** Accept "type.googleapis.com/x.y" as well as the bare "x.y" some shims send. */
function stripPrefix(typeUrl: string): string {
  return typeUrl.startsWith('type.googleapis.com/') ? typeUrl.slice('type.googleapis.com/'.length) : typeUrl;
}

/**
 * A Timestamp → nanoseconds since the epoch; 0n when unset. Go shims send time.Time{} (year 1,
 * negative seconds) for "not exited", which also maps to 0n.
 */
export function timestampToNs(ts: Timestamp | undefined): bigint {
  if (!ts || ts.seconds <= 0n) return 0n;
  return ts.seconds * 1_000_000_000n + BigInt(ts.nanos);
}

export function nsToTimestamp(ns: bigint): Timestamp {
  return { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) };
}
