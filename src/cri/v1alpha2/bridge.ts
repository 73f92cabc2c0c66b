/**
 * Protobuf-level bridge from a runtime.v1alpha2 service to the runtime.v1 handlers.
 *
 * Every v1alpha2 message carries the same field numbers and wire types as its v1 namesake
 * (v1 only adds fields; the one type change, KeyValue.value string -> bytes, is the same
 * length-delimited encoding). So a v1alpha2 request is decoded directly *as the v1 message*
 * (fields unknown to v1 would be dropped; there are none), and a v1 answer is encoded, decoded
 * as the v1alpha2 message (v1-only fields vanish) and encoded again. The check that this
 * holds for every message is test/unit/cri-v1alpha2/wire-compat.test.ts.
 */
import type * as grpc from '@grpc/grpc-js';

/** The shape of one method in a ts-proto grpc-js service definition. */
export interface GenMethod {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize(value: never): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: never): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}

const rpcName = (path: string) => path.slice(path.lastIndexOf('/') + 1);

/**
 * One bridged method: on the wire it is the `older` method (path and bytes); to the handler
 * it is the `newer` one (the handler receives and returns newer-package objects).
 */
export function bridgeMethod(older: GenMethod, newer: GenMethod): grpc.MethodDefinition<unknown, unknown> {
  if (rpcName(older.path) !== rpcName(newer.path)) {
    throw new Error(`bridge: ${older.path} paired with ${newer.path}`);
  }
  if (older.requestStream || newer.requestStream || older.responseStream !== newer.responseStream) {
    throw new Error(`bridge: ${older.path} and ${newer.path} differ in streaming`);
  }
  return {
    path: older.path,
    requestStream: false,
    responseStream: older.responseStream,
    // Client side (tests): a newer request object goes out in the older package's bytes.
    requestSerialize: (req: unknown) => older.requestSerialize(older.requestDeserialize(newer.requestSerialize(req as never)) as never),
    requestDeserialize: (bytes: Buffer) => newer.requestDeserialize(bytes),
    responseSerialize: (res: unknown) => older.responseSerialize(older.responseDeserialize(newer.responseSerialize(res as never)) as never),
    responseDeserialize: (bytes: Buffer) => newer.responseDeserialize(bytes),
  };
}

/**
 * A grpc-js service definition serving every method of `older` through the `newer` methods of
 * the same name. Methods only in `newer` are not part of it (not served on the older path).
 */
export function bridgeService(
  older: Record<string, GenMethod>,
  newer: Record<string, GenMethod>,
): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [key, m] of Object.entries(older)) {
    const n = newer[key];
    if (!n) throw new Error(`bridge: ${m.path} has no counterpart in the newer service`);
    def[key] = bridgeMethod(m, n);
  }
  return def;
}
