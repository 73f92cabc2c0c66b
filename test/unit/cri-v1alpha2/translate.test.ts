/**
 * The v1alpha2 <-> v1 translation for every RPC, with every field populated: v1alpha2
 * requests reach the v1 handlers without losing a field, and v1 answers leave as exactly the
 * bytes a native v1alpha2 server would send (v1-only fields gone). Plus the hand-made parts.
 */
import { describe, expect, it } from 'vitest';
import * as v1 from '../../../src/gen/runtime/v1/api.js';
import * as v1alpha2 from '../../../src/gen/runtime/v1alpha2/api.js';
import { bridgeService, type GenMethod } from '../../../src/cri/v1alpha2/bridge.js';
import {
  CRI_API_VERSION_V1ALPHA2,
  ImageServiceV1alpha2,
  RuntimeServiceV1alpha2,
  v1alpha2RuntimeHandlers,
  v1alpha2Services,
} from '../../../src/cri/v1alpha2/services.js';
import type { RuntimeHandlers } from '../../../src/cri/server.js';
import type { CallCtx } from '../../../src/cri/instrument.js';
import { logger } from '../../../src/util/log.js';
import { loadPackages, populate } from './descriptors.js';

interface Codec {
  fromJSON(o: unknown): unknown;
  toJSON(m: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
}
const codec = (mod: object, name: string) => (mod as Record<string, Codec>)[name]!;
const lowerFirst = (s: string) => s[0]!.toLowerCase() + s.slice(1);

const { v1: p1, v1alpha2: pa } = loadPackages();
const bridged: Record<string, Record<string, import('@grpc/grpc-js').MethodDefinition<unknown, unknown>>> = {
  RuntimeService: RuntimeServiceV1alpha2 as never,
  ImageService: ImageServiceV1alpha2 as never,
};
const rpcs = [...pa.services].flatMap(([svc, ms]) =>
  ms.map((m) => ({ svc, rpc: m.name, input: m.inputType.split('.').pop()!, output: m.outputType.split('.').pop()! })),
);

describe('every v1alpha2 RPC through the bridge', () => {
  it.each(rpcs)('$rpc ($svc) request: every v1alpha2 field reaches the v1 handler', ({ svc, rpc, input }) => {
    const A = codec(v1alpha2, input);
    const V = codec(v1, input);
    const sent = A.fromJSON(populate(pa, input));
    const wire = Buffer.from(A.encode(sent).finish());
    const received = bridged[svc]![lowerFirst(rpc)]!.requestDeserialize(wire);
    // What the v1 handler got, re-read as v1alpha2, is everything the client sent.
    const back = A.decode(V.encode(received).finish());
    expect(A.toJSON(back)).toEqual(A.toJSON(sent));
    expect(Object.keys(A.toJSON(sent) as object)).toHaveLength(pa.messages.get(input)!.field?.length ?? 0);
  });

  it.each(rpcs)('$rpc ($svc) response: exactly the v1alpha2 bytes, v1-only fields dropped', ({ svc, rpc, output }) => {
    const A = codec(v1alpha2, output);
    const V = codec(v1, output);
    const answer = V.fromJSON(populate(p1, output));
    const wire = bridged[svc]![lowerFirst(rpc)]!.responseSerialize(answer);
    const native = Buffer.from(A.encode(A.fromJSON(populate(pa, output))).finish());
    expect(wire.equals(native)).toBe(true);
  });

  it('the response check sees v1-only fields (StatusResponse.runtime_handlers, ContainerStats.swap)', () => {
    const status = v1.StatusResponse.fromPartial({ status: { conditions: [{ type: 'RuntimeReady', status: true }] }, runtimeHandlers: [{ name: 'runc' }] });
    const wire = bridged.RuntimeService!.status!.responseSerialize(status);
    expect(v1.StatusResponse.decode(wire)).toEqual(v1.StatusResponse.fromPartial({ status: status.status }));
    expect(Buffer.from(v1.StatusResponse.encode(status).finish()).length).toBeGreaterThan(wire.length);

    const stats = v1.ContainerStatsResponse.fromPartial({
      stats: { attributes: { id: 'c1' }, cpu: { timestamp: 5n, usageCoreNanoSeconds: { value: 7n } }, swap: { timestamp: 5n, swapUsageBytes: { value: 1n } } },
    });
    const decoded = v1alpha2.ContainerStatsResponse.decode(bridged.RuntimeService!.containerStats!.responseSerialize(stats));
    expect(decoded.stats?.cpu?.usageCoreNanoSeconds?.value).toBe(7n);
    expect(v1.ContainerStatsResponse.decode(v1alpha2.ContainerStatsResponse.encode(decoded).finish()).stats?.swap).toBeUndefined();
  });

  it('passes env values (KeyValue.value: string in v1alpha2, bytes in v1) through unchanged', () => {
    const req = v1alpha2.CreateContainerRequest.fromPartial({ config: { envs: [{ key: 'GREETING', value: 'grüß dich=1' }] } });
    const got = bridged.RuntimeService!.createContainer!.requestDeserialize(Buffer.from(v1alpha2.CreateContainerRequest.encode(req).finish())) as v1.CreateContainerRequest;
    expect(Buffer.from(got.config!.envs[0]!.value).toString()).toBe('grüß dich=1');
  });
});

describe('served methods', () => {
  it('serves exactly the v1alpha2 RPCs, on runtime.v1alpha2 paths', () => {
    const paths = [...Object.values(RuntimeServiceV1alpha2), ...Object.values(ImageServiceV1alpha2)].map((m) => m.path);
    expect(paths).toEqual(rpcs.map((r) => `/runtime.v1alpha2.${r.svc}/${r.rpc}`));
    expect(paths.some((p) => /Stream|Checkpoint|RuntimeConfig$|Events|Metric/.test(p) && !p.endsWith('UpdateRuntimeConfig'))).toBe(false);
  });

  it('gives every method an implementation, unimplemented handlers included', () => {
    const [rt, im] = v1alpha2Services({}, {}, logger('test'));
    expect(Object.keys(rt!.implementation).sort()).toEqual(Object.keys(RuntimeServiceV1alpha2).sort());
    expect(Object.keys(im!.implementation).sort()).toEqual(Object.keys(ImageServiceV1alpha2).sort());
  });

  it('refuses to pair methods of different names or streaming', () => {
    const m = (path: string, responseStream = false) =>
      ({ path, requestStream: false, responseStream, requestSerialize: () => Buffer.alloc(0), requestDeserialize: () => ({}), responseSerialize: () => Buffer.alloc(0), responseDeserialize: () => ({}) }) as GenMethod;
    expect(() => bridgeService({ a: m('/x.S/A') }, { a: m('/y.S/B') })).toThrow(/paired with/);
    expect(() => bridgeService({ a: m('/x.S/A') }, { a: m('/y.S/A', true) })).toThrow(/streaming/);
    expect(() => bridgeService({ a: m('/x.S/A') }, {})).toThrow(/no counterpart/);
  });
});

describe('Version on v1alpha2', () => {
  const ctx = {} as CallCtx;
  const base: RuntimeHandlers = {
    version: async () => v1.VersionResponse.fromPartial({ version: '0.1.0', runtimeName: 'berth', runtimeVersion: '1.2.3', runtimeApiVersion: 'v1' }),
    status: async () => v1.StatusResponse.fromPartial({}),
  };

  it('reports runtime_api_version v1alpha2 and keeps the rest', async () => {
    const h = v1alpha2RuntimeHandlers(base);
    const res = await h.version!(v1.VersionRequest.fromPartial({ version: '0.1.0' }), ctx);
    expect(res).toEqual({ version: '0.1.0', runtimeName: 'berth', runtimeVersion: '1.2.3', runtimeApiVersion: CRI_API_VERSION_V1ALPHA2 });
    expect(CRI_API_VERSION_V1ALPHA2).toBe('v1alpha2');
    expect(h.status).toBe(base.status);
    // The v1 handler map is untouched.
    expect((await base.version!(v1.VersionRequest.fromPartial({}), ctx)).runtimeApiVersion).toBe('v1');
  });
});
