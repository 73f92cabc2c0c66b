/**
 * The CRI gRPC server: RuntimeService and ImageService of runtime.v1 on one unix socket.
 * Handlers are plain async functions keyed by method name (see instrument.ts); any method
 * without a handler answers UNIMPLEMENTED naming itself.
 */
import * as grpc from '@grpc/grpc-js';
import { ImageServiceService, RuntimeServiceService } from '../gen/runtime/v1/api.js';
import type { Logger } from '../util/log.js';
import { BerthError, Code } from '../util/errors.js';
import { wrapStream, wrapUnary, type StreamHandler, type UnaryHandler } from './instrument.js';
import { listenUnix, unixPathOf, type UnixListener } from './transport/unix-listener.js';

type ReqOf<M> = M extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type ResOf<M> = M extends { responseSerialize: (v: infer R) => Buffer } ? R : never;

/** Handler map for a generated service definition: unary or server-streaming per method. */
export type HandlersOf<D> = {
  [K in keyof D]?: D[K] extends { responseStream: true }
    ? StreamHandler<ReqOf<D[K]>, ResOf<D[K]>>
    : UnaryHandler<ReqOf<D[K]>, ResOf<D[K]>>;
};
export type RuntimeHandlers = HandlersOf<typeof RuntimeServiceService>;
export type ImageHandlers = HandlersOf<typeof ImageServiceService>;

interface MethodDef {
  path: string;
  responseStream: boolean;
}

/** Build the grpc-js implementation object for one service from a handler map. */
export function implement(
  serviceName: string,
  def: Record<string, MethodDef>,
  handlers: Record<string, unknown>,
  log: Logger,
): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [key, m] of Object.entries(def)) {
    const rpc = m.path.slice(m.path.lastIndexOf('/') + 1);
    const h = handlers[key] as ((...a: never[]) => Promise<unknown>) | undefined;
    const fallback = async () => {
      throw new BerthError(Code.UNIMPLEMENTED, `${serviceName}.${rpc} is not implemented by berth yet`);
    };
    impl[key] = m.responseStream
      ? wrapStream(serviceName, rpc, (h ?? fallback) as StreamHandler<unknown, unknown>, log)
      : wrapUnary(serviceName, rpc, (h ?? fallback) as UnaryHandler<unknown, unknown>, log);
  }
  return impl;
}

export interface CriServer {
  socketPath: string;
  /** Stop accepting, let in-flight calls finish for up to graceMs, then cut. */
  stop(graceMs?: number): Promise<void>;
}

export interface CriServerOptions {
  listen: string;
  runtime: RuntimeHandlers;
  image: ImageHandlers;
  log: Logger;
  /** Extra services on the same socket (e.g. runtime.v1alpha2). */
  extra?: { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation }[];
}

export const GRPC_MAX_MESSAGE = 16 * 1024 * 1024;

export async function startCriServer(opts: CriServerOptions): Promise<CriServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': GRPC_MAX_MESSAGE,
    'grpc.max_send_message_length': GRPC_MAX_MESSAGE,
  });
  server.addService(
    RuntimeServiceService,
    implement('RuntimeService', RuntimeServiceService, opts.runtime as Record<string, unknown>, opts.log),
  );
  server.addService(
    ImageServiceService,
    implement('ImageService', ImageServiceService, opts.image as Record<string, unknown>, opts.log),
  );
  for (const s of opts.extra ?? []) server.addService(s.definition, s.implementation);
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const path = unixPathOf(opts.listen);
  let listener: UnixListener;
  try {
    listener = await listenUnix(path, (conn) => injector.injectConnection(conn));
  } catch (err) {
    injector.destroy();
    throw err;
  }
  opts.log.info({ socket: path }, 'CRI server listening');
  return {
    socketPath: path,
    async stop(graceMs = 5000) {
      await listener.close();
      injector.drain(graceMs);
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      });
      listener.destroyConnections();
      injector.destroy();
    },
  };
}
