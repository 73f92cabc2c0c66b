/** Pure pieces of the shim client: Any packing, events decoding, shim command lines, log levels. */
import { describe, expect, it } from 'vitest';
import { Options } from '../../../src/gen/containerd/runc/v1/options.js';
import { TaskExit, TaskOOM } from '../../../src/gen/containerd/events/task.js';
import { Envelope } from '../../../src/gen/containerd/services/events/ttrpc/v1/events.js';
import { Metrics as V1Metrics } from '../../../src/gen/containerd/cgroups/v1/metrics.js';
import {
  nsToTimestamp,
  packOciJson,
  packRuncOptions,
  timestampToNs,
  TYPE_URL,
  unpackProcessExecId,
  unpackRuncOptions,
  unpackStats,
} from '../../../src/runtimes/shim/any.js';
import { decodeEnvelope } from '../../../src/runtimes/shim/events.js';
import {
  deleteArgs,
  parseStartOutput,
  shimEnv,
  startArgs,
  validateBundle,
  validateId,
} from '../../../src/runtimes/shim/command.js';
import { levelOfShimLine } from '../../../src/runtimes/shim/shim-log.js';
import { metadataPairs, socketPathOf, splitMethodPath } from '../../../src/runtimes/shim/ttrpc/method.js';
import { ProcessDetails } from '../../../src/gen/containerd/runc/v1/options.js';

describe('Any packing', () => {
  it('packs runc options under the bare type URL the shim resolves', () => {
    const any = packRuncOptions({ binaryName: 'crun', root: '/run/berth/runc', systemdCgroup: true });
    expect(any.typeUrl).toBe('containerd.runc.v1.Options');
    expect(Options.decode(any.value)).toMatchObject({ binaryName: 'crun', root: '/run/berth/runc', systemdCgroup: true });
    expect(unpackRuncOptions(any).binaryName).toBe('crun');
    // field 6 (binary_name), wire type 2: tag byte 0x32
    expect(any.value.includes(Buffer.from([0x32, 4, ...Buffer.from('crun')]))).toBe(true);
  });

  it('packs OCI structs as JSON under types.containerd.io URLs', () => {
    const any = packOciJson(TYPE_URL.ociLinuxResources, { pids: { limit: 5 } });
    expect(any.typeUrl).toBe('types.containerd.io/opencontainers/runtime-spec/1/LinuxResources');
    expect(JSON.parse(any.value.toString())).toEqual({ pids: { limit: 5 } });
    expect(() => packOciJson(TYPE_URL.ociProcess, null)).toThrow(/must be a JSON object/);
  });

  it('decodes stats by type URL, with or without the googleapis prefix', () => {
    const value = Buffer.from(V1Metrics.encode(V1Metrics.fromPartial({ pids: { current: 3n, limit: 9n } })).finish());
    const s = unpackStats({ typeUrl: 'io.containerd.cgroups.v1.Metrics', value });
    expect(s.version).toBe('v1');
    expect(s.version === 'v1' && s.metrics.pids).toEqual({ current: 3n, limit: 9n });
    expect(unpackStats({ typeUrl: 'type.googleapis.com/io.containerd.cgroups.v1.Metrics', value }).version).toBe('v1');
    expect(unpackStats({ typeUrl: 'x.Y', value }).version).toBe('unknown');
    expect(unpackStats(undefined).version).toBe('unknown');
  });

  it('reads the exec id of a Pids entry', () => {
    const value = Buffer.from(ProcessDetails.encode({ execId: 'e1' }).finish());
    expect(unpackProcessExecId({ typeUrl: 'containerd.runc.v1.ProcessDetails', value })).toBe('e1');
    expect(unpackProcessExecId(undefined)).toBeUndefined();
  });

  it('converts timestamps to epoch nanoseconds; Go zero time is 0n', () => {
    expect(timestampToNs({ seconds: 1_700_000_000n, nanos: 5 })).toBe(1_700_000_000_000_000_005n);
    expect(timestampToNs({ seconds: -62135596800n, nanos: 0 })).toBe(0n);
    expect(timestampToNs(undefined)).toBe(0n);
    expect(timestampToNs(nsToTimestamp(1_234_567_890_123_456_789n))).toBe(1_234_567_890_123_456_789n);
  });
});

describe('event envelopes', () => {
  const env = (typeUrl: string, value: Uint8Array, topic: string) =>
    Envelope.fromPartial({
      timestamp: { seconds: 10n, nanos: 1 },
      namespace: 'k8s.io',
      topic,
      event: { typeUrl, value: Buffer.from(value) },
    });

  it('decodes TaskExit', () => {
    const value = TaskExit.encode(
      TaskExit.fromPartial({ containerId: 'c1', id: 'e1', pid: 42, exitStatus: 137, exitedAt: { seconds: 11n, nanos: 0 } }),
    ).finish();
    expect(decodeEnvelope(env('containerd.events.TaskExit', value, '/tasks/exit'))).toEqual({
      kind: 'exit',
      containerId: 'c1',
      id: 'e1',
      pid: 42,
      exitStatus: 137,
      exitedAtNs: 11_000_000_000n,
      namespace: 'k8s.io',
      topic: '/tasks/exit',
      timestampNs: 10_000_000_001n,
    });
  });

  it('decodes TaskOOM and passes unknown types through', () => {
    const oom = decodeEnvelope(env('containerd.events.TaskOOM', TaskOOM.encode({ containerId: 'c2' }).finish(), '/tasks/oom'));
    expect(oom).toMatchObject({ kind: 'oom', containerId: 'c2' });
    const other = decodeEnvelope(env('containerd.events.Something', Buffer.from([1, 2]), '/x'));
    expect(other).toMatchObject({ kind: 'unknown', typeUrl: 'containerd.events.Something', topic: '/x' });
  });
});

describe('shim command lines', () => {
  const cfg = { namespace: 'k8s.io', address: '/run/berth/berth.sock', publishBinary: '/bin/false', eventsAddress: '/run/berth/events.sock' };

  it('builds start and delete like containerd 1.6', () => {
    expect(startArgs(cfg, 'pod1')).toEqual([
      '-namespace', 'k8s.io', '-address', '/run/berth/berth.sock', '-publish-binary', '/bin/false', '-id', 'pod1', 'start',
    ]);
    expect(startArgs({ ...cfg, debug: true }, 'p').slice(-2)).toEqual(['-debug', 'start']);
    expect(deleteArgs(cfg, 'pod1', '/b/pod1').slice(-5)).toEqual(['-id', 'pod1', '-bundle', '/b/pod1', 'delete']);
    expect(shimEnv(cfg, { PATH: '/bin' })).toEqual({ PATH: '/bin', GOMAXPROCS: '2', TTRPC_ADDRESS: '/run/berth/events.sock' });
  });

  it('parses the printed address', () => {
    expect(parseStartOutput('unix:///run/containerd/s/abc\n')).toBe('unix:///run/containerd/s/abc');
    expect(parseStartOutput('')).toBeUndefined();
    expect(parseStartOutput('some error text')).toBeUndefined();
  });

  it('validates ids and bundle names', () => {
    expect(() => validateId('a'.repeat(64))).not.toThrow();
    expect(() => validateId('pod-1.x_y')).not.toThrow();
    for (const bad of ['', '-a', 'a/b', 'a..b', 'a b', 'x'.repeat(77)]) expect(() => validateId(bad)).toThrow(/not a valid shim identifier/);
    expect(() => validateBundle('pod1', '/var/lib/berth/pod1')).not.toThrow();
    expect(() => validateBundle('pod1', '/var/lib/berth/other')).toThrow(/must be named after its id/);
    expect(() => validateBundle('pod1', 'rel/pod1')).toThrow(/absolute/);
  });
});

describe('small helpers', () => {
  it('maps logrus levels', () => {
    expect(levelOfShimLine('time="x" level=warning msg="y"')).toBe('warn');
    expect(levelOfShimLine('time="x" level=error msg="y"')).toBe('error');
    expect(levelOfShimLine('time="x" level=info msg="loading plugin"')).toBe('debug');
    expect(levelOfShimLine('panic: runtime error')).toBe('info');
  });

  it('splits method paths, socket addresses and metadata', () => {
    expect(splitMethodPath('/containerd.task.v2.Task/Create')).toEqual({ service: 'containerd.task.v2.Task', method: 'Create' });
    expect(() => splitMethodPath('/nomethod')).toThrow();
    expect(socketPathOf('unix:///run/x.sock')).toBe('/run/x.sock');
    expect(socketPathOf('/run/x.sock')).toBe('/run/x.sock');
    expect(metadataPairs({ A: '1' }, { a: ['2', '3'], b: '4' })).toEqual([
      { key: 'a', value: '2' },
      { key: 'a', value: '3' },
      { key: 'b', value: '4' },
    ]);
  });
});
