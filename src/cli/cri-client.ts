/**
 * The CLI's CRI client: RuntimeService and ImageService of runtime.v1 over berthd's unix
 * socket, every method a promise (server-streaming methods collect their messages). Calls
 * carry a deadline (default 30 s) so a wedged daemon never hangs the CLI.
 */
import * as grpc from '@grpc/grpc-js';
import { ImageServiceService, RuntimeServiceService } from '../gen/runtime/v1/api.js';

type ReqOf<M> = M extends { requestSerialize: (v: infer R) => Buffer } ? R : never;
type ResOf<M> = M extends { responseDeserialize: (b: Buffer) => infer R } ? R : never;

export interface CallOptions {
  /** Milliseconds before the call fails with DEADLINE_EXCEEDED; 0 = none. */
  deadlineMs?: number;
}

export type PromiseClient<D> = {
  [K in keyof D]: D[K] extends { responseStream: true }
    ? (req: ReqOf<D[K]>, opts?: CallOptions) => Promise<ResOf<D[K]>[]>
    : (req: ReqOf<D[K]>, opts?: CallOptions) => Promise<ResOf<D[K]>>;
};

export type RuntimeClient = PromiseClient<typeof RuntimeServiceService>;
export type ImageClient = PromiseClient<typeof ImageServiceService>;

export interface CriClient {
  runtime: RuntimeClient;
  image: ImageClient;
  close(): void;
}

export const DEFAULT_DEADLINE_MS = 30_000;

function callOptions(opts: CallOptions | undefined): grpc.CallOptions {
  const ms = opts?.deadlineMs ?? DEFAULT_DEADLINE_MS;
  return ms > 0 ? { deadline: Date.now() + ms } : {};
}

function promisify<D extends Record<string, { responseStream: boolean }>>(def: D, client: grpc.Client): PromiseClient<D> {
  const out: Record<string, unknown> = {};
  const methods = client as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const [key, m] of Object.entries(def)) {
    const method = methods[key]!;
    out[key] = m.responseStream
      ? (req: unknown, opts?: CallOptions) =>
          new Promise((resolve, reject) => {
            const items: unknown[] = [];
            const s = method.call(client, req, new grpc.Metadata(), callOptions(opts)) as grpc.ClientReadableStream<unknown>;
            s.on('data', (d) => items.push(d));
            s.on('error', reject);
            s.on('end', () => resolve(items));
          })
      : (req: unknown, opts?: CallOptions) =>
          new Promise((resolve, reject) => {
            method.call(client, req, new grpc.Metadata(), callOptions(opts), (err: grpc.ServiceError | null, res: unknown) =>
              err ? reject(err) : resolve(res),
            );
          });
  }
  return out as PromiseClient<D>;
}

/** Connect (lazily: the first call dials) to the CRI socket at `socketPath`. */
export function criClient(socketPath: string): CriClient {
  const channelOpts: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': 16 << 20,
    // Fail fast when the socket is missing instead of retrying until the deadline.
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
  };
  const Runtime = grpc.makeGenericClientConstructor(RuntimeServiceService, 'RuntimeService');
  const Image = grpc.makeGenericClientConstructor(ImageServiceService, 'ImageService');
  const target = `unix://${socketPath}`;
  const rt = new Runtime(target, grpc.credentials.createInsecure(), channelOpts);
  const im = new Image(target, grpc.credentials.createInsecure(), { ...channelOpts, channelOverride: rt.getChannel() });
  return {
    runtime: promisify(RuntimeServiceService, rt),
    image: promisify(ImageServiceService, im),
    close() {
      rt.close();
    },
  };
}
