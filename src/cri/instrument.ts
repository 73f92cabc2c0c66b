/**
 * Every CRI call passes through here once: request ids and duration logged (debug),
 * failures logged (warn for caller errors, error for ours) and turned into a gRPC status
 * with a message a person can act on, and observers notified (metrics hook in here).
 * Handlers stay free of logging and status plumbing.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../util/log.js';
import { BerthError, Code, errnoCode, messageOf } from '../util/errors.js';

export interface CallCtx {
  service: string;
  rpc: string;
  log: Logger;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
}

export type UnaryHandler<Req, Res> = (req: Req, ctx: CallCtx) => Promise<Res>;
export type StreamHandler<Req, Res> = (req: Req, ctx: CallCtx, send: (res: Res) => void) => Promise<void>;

export interface CallEvent {
  service: string;
  rpc: string;
  durationMs: number;
  code: Code | 0;
}
type CallObserver = (ev: CallEvent) => void;
const observers: CallObserver[] = [];

/** Subscribe to completed calls (used by the SLI registry). Returns an unsubscribe function. */
export function observeCalls(fn: CallObserver): () => void {
  observers.push(fn);
  return () => observers.splice(observers.indexOf(fn) >>> 0, 1);
}

const CALLER_ERRORS = new Set<Code>([
  Code.INVALID_ARGUMENT,
  Code.NOT_FOUND,
  Code.ALREADY_EXISTS,
  Code.FAILED_PRECONDITION,
  Code.PERMISSION_DENIED,
  Code.UNAUTHENTICATED,
  Code.UNIMPLEMENTED,
  Code.OUT_OF_RANGE,
  Code.CANCELLED,
  Code.DEADLINE_EXCEEDED,
]);

/** Map anything thrown by a handler to a status code and message. */
export function toStatus(err: unknown, rpc: string): { code: Code; message: string } {
  if (err instanceof BerthError) return { code: err.code, message: err.message };
  if (errnoCode(err) === 'ENOSPC') return { code: Code.RESOURCE_EXHAUSTED, message: `no space left on device: ${messageOf(err)}` };
  return { code: Code.INTERNAL, message: `${rpc}: internal error: ${messageOf(err)}` };
}

/** Ids worth putting on every log line of a call. */
function idsOf(req: unknown): Record<string, unknown> {
  if (typeof req !== 'object' || req === null) return {};
  const r = req as Record<string, unknown>;
  const ids: Record<string, unknown> = {};
  for (const key of ['podSandboxId', 'containerId']) if (typeof r[key] === 'string' && r[key]) ids[key] = r[key];
  const image = r.image as { image?: unknown } | undefined;
  if (image && typeof image.image === 'string' && image.image) ids.image = image.image;
  const meta = (r.config as { metadata?: { name?: unknown; namespace?: unknown } } | undefined)?.metadata;
  if (meta && typeof meta.name === 'string') ids.name = meta.name;
  if (meta && typeof meta.namespace === 'string' && meta.namespace) ids.namespace = meta.namespace;
  return ids;
}

function finish(ctx: CallCtx, start: bigint, err: unknown): { code: Code; message: string } | undefined {
  const durationMs = Number(process.hrtime.bigint() - start) / 1e6;
  let status: { code: Code; message: string } | undefined;
  if (err === undefined) {
    ctx.log.debug({ durationMs }, 'call done');
  } else {
    status = toStatus(err, `${ctx.service}.${ctx.rpc}`);
    const fields = { durationMs, code: Code[status.code], err: err instanceof BerthError ? undefined : err };
    if (CALLER_ERRORS.has(status.code)) ctx.log.warn(fields, status.message);
    else ctx.log.error(fields, status.message);
  }
  const ev: CallEvent = { service: ctx.service, rpc: ctx.rpc, durationMs, code: status?.code ?? 0 };
  for (const o of observers) {
    try {
      o(ev);
    } catch {
      /* observers must not break calls */
    }
  }
  return status;
}

function makeCtx(service: string, rpc: string, req: unknown, log: Logger, call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): CallCtx {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort(new BerthError(Code.CANCELLED, `${rpc} cancelled by the client`)));
  const deadline = call.getDeadline();
  if (deadline instanceof Date || typeof deadline === 'number') {
    const ms = Number(deadline) - Date.now();
    if (Number.isFinite(ms)) {
      const t = setTimeout(() => ac.abort(new BerthError(Code.DEADLINE_EXCEEDED, `${rpc} deadline exceeded`)), Math.max(0, ms));
      t.unref();
      call.on('finish', () => clearTimeout(t));
    }
  }
  return { service, rpc, log: log.child({ rpc, ...idsOf(req) }), signal: ac.signal };
}

export function wrapUnary<Req, Res>(
  service: string,
  rpc: string,
  handler: UnaryHandler<Req, Res>,
  log: Logger,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const start = process.hrtime.bigint();
    const ctx = makeCtx(service, rpc, call.request, log, call);
    ctx.log.debug('call');
    handler(call.request, ctx).then(
      (res) => {
        finish(ctx, start, undefined);
        callback(null, res);
      },
      (err: unknown) => {
        const st = finish(ctx, start, err)!;
        callback({ code: st.code as unknown as grpc.status, details: st.message });
      },
    );
  };
}

export function wrapStream<Req, Res>(
  service: string,
  rpc: string,
  handler: StreamHandler<Req, Res>,
  log: Logger,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const start = process.hrtime.bigint();
    const ctx = makeCtx(service, rpc, call.request, log, call);
    ctx.log.debug('stream');
    handler(call.request, ctx, (res) => call.write(res)).then(
      () => {
        finish(ctx, start, undefined);
        call.end();
      },
      (err: unknown) => {
        const st = finish(ctx, start, err)!;
        call.emit('error', { code: st.code as unknown as grpc.status, details: st.message });
      },
    );
  };
}
