/**
 * CRI clients for either API package, built the way a kubelet of that era builds them:
 * grpc-js generic clients over the generated service definitions of runtime.v1 or
 * runtime.v1alpha2, with the socket path as `:authority` (old kubelets and crictl do that).
 * Requests are partial objects completed with the package's own `fromPartial`, so one test
 * body drives both packages; answers are that package's decoded messages.
 */
import * as grpc from '@grpc/grpc-js';
import * as v1 from '../../../src/gen/runtime/v1/api.js';
import * as v1alpha2 from '../../../src/gen/runtime/v1alpha2/api.js';

export type Api = 'v1' | 'v1alpha2';
const MODULES = { v1, v1alpha2 } as const;

type DeepPartial<T> = T extends bigint | string | number | boolean | Uint8Array | undefined
  ? T
  : T extends (infer U)[]
    ? DeepPartial<U>[]
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;
type ReqOf<M> = M extends { requestSerialize: (v: infer R) => Buffer } ? R : never;
type ResOf<M> = M extends { responseDeserialize: (b: Buffer) => infer R } ? R : never;
/** Typed by the v1alpha2 definitions: the subset both packages share. */
type Client<D> = { [K in keyof D]: (req: DeepPartial<ReqOf<D[K]>>) => Promise<ResOf<D[K]>> };

export interface ApiClients {
  api: Api;
  runtime: Client<typeof v1alpha2.RuntimeServiceService>;
  image: Client<typeof v1alpha2.ImageServiceService>;
  /** Call `/runtime.<api>.<service>/<method>` and return the answer's raw bytes. */
  raw(service: 'RuntimeService' | 'ImageService', method: string, req?: Uint8Array): Promise<Buffer>;
  close(): void;
}

interface Codec {
  fromPartial(o: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
}

function promiseClient(api: Api, service: string, socket: string, opts: grpc.ChannelOptions) {
  const mod = MODULES[api] as unknown as Record<string, Codec | Record<string, grpc.MethodDefinition<unknown, unknown>>>;
  const gen = mod[`${service}Service`] as Record<string, grpc.MethodDefinition<unknown, unknown>>;
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [key, m] of Object.entries(gen)) {
    const reqType = mod[`${m.path.slice(m.path.lastIndexOf('/') + 1)}Request`] as Codec;
    def[key] = { ...m, requestSerialize: (v: unknown) => Buffer.from(reqType.encode(reqType.fromPartial(v)).finish()) };
  }
  const Ctor = grpc.makeGenericClientConstructor(def, service);
  const client = new Ctor(`unix://${socket}`, grpc.credentials.createInsecure(), opts);
  const out: Record<string, (req: unknown) => Promise<unknown>> = {};
  const c = client as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const key of Object.keys(def)) {
    out[key] = (req) =>
      new Promise((resolve, reject) => {
        c[key]!.call(client, req, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res)));
      });
  }
  return { client, calls: out };
}

export function apiClients(api: Api, socket: string, authority = socket): ApiClients {
  const opts: grpc.ChannelOptions = { 'grpc.default_authority': authority, 'grpc.max_receive_message_length': 16 << 20 };
  const rt = promiseClient(api, 'RuntimeService', socket, opts);
  const im = promiseClient(api, 'ImageService', socket, opts);
  const rawClient = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure(), opts);
  return {
    api,
    runtime: rt.calls as unknown as ApiClients['runtime'],
    image: im.calls as unknown as ApiClients['image'],
    raw(service, method, req = new Uint8Array()) {
      return new Promise((resolve, reject) => {
        rawClient.makeUnaryRequest(
          `/runtime.${api}.${service}/${method}`,
          (b: Uint8Array) => Buffer.from(b),
          (b: Buffer) => b,
          req,
          (err: grpc.ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(res!)),
        );
      });
    },
    close() {
      rt.client.close();
      im.client.close();
      rawClient.close();
    },
  };
}
