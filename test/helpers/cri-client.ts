/**
 * Typed promise clients for the CRI RuntimeService / ImageService over a unix socket,
 * for tests. `authority` lets a test behave like crictl 1.26 / old kubelets, which send
 * the socket path as the HTTP/2 :authority.
 */
import * as grpc from '@grpc/grpc-js';
import { ImageServiceService, RuntimeServiceService } from '../../src/gen/runtime/v1/api.js';

type ReqOf<M> = M extends { requestSerialize: (v: infer R) => Buffer } ? R : never;
type ResOf<M> = M extends { responseDeserialize: (b: Buffer) => infer R } ? R : never;
export type PromiseClient<D> = {
  [K in keyof D]: D[K] extends { responseStream: true }
    ? (req: ReqOf<D[K]>) => Promise<ResOf<D[K]>[]>
    : (req: ReqOf<D[K]>, opts?: { deadlineMs?: number }) => Promise<ResOf<D[K]>>;
};

export interface CriClients {
  runtime: PromiseClient<typeof RuntimeServiceService>;
  image: PromiseClient<typeof ImageServiceService>;
  close(): void;
}

function promisify<D extends Record<string, { responseStream: boolean }>>(def: D, client: grpc.Client): PromiseClient<D> {
  const out: Record<string, unknown> = {};
  const c = client as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [key, m] of Object.entries(def)) {
    if (m.responseStream) {
      out[key] = (req: unknown) =>
        new Promise((resolve, reject) => {
          const items: unknown[] = [];
          const s = c[key]!.call(client, req) as grpc.ClientReadableStream<unknown>;
          s.on('data', (d) => items.push(d));
          s.on('error', reject);
          s.on('end', () => resolve(items));
        });
    } else {
      out[key] = (req: unknown, opts?: { deadlineMs?: number }) =>
        new Promise((resolve, reject) => {
          const callOpts: grpc.CallOptions = opts?.deadlineMs ? { deadline: Date.now() + opts.deadlineMs } : {};
          c[key]!.call(client, req, new grpc.Metadata(), callOpts, (err: grpc.ServiceError | null, res: unknown) =>
            err ? reject(err) : resolve(res),
          );
        });
    }
  }
  return out as PromiseClient<D>;
}

export function criClients(socketPath: string, opts: { authority?: string } = {}): CriClients {
  const channelOpts: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 16 << 20 };
  if (opts.authority) channelOpts['grpc.default_authority'] = opts.authority;
  const Runtime = grpc.makeGenericClientConstructor(RuntimeServiceService, 'RuntimeService');
  const Image = grpc.makeGenericClientConstructor(ImageServiceService, 'ImageService');
  const rt = new Runtime(`unix://${socketPath}`, grpc.credentials.createInsecure(), channelOpts);
  const im = new Image(`unix://${socketPath}`, grpc.credentials.createInsecure(), channelOpts);
  return {
    runtime: promisify(RuntimeServiceService, rt),
    image: promisify(ImageServiceService, im),
    close() {
      rt.close();
      im.close();
    },
  };
}

/** Await a rejected CRI call and return its gRPC error (fails the test if it resolves). */
export async function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, it succeeded');
}
export { grpc };
