/**
 * One exec / attach session, whatever the transport: call the runtime with the client's
 * streams, then end the output streams and report how it went on the error stream.
 */
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from '../util/log.js';
import { messageOf } from '../util/errors.js';
import type { AttachRequest, ExecRequest, SessionIo, StreamingRuntime } from './runtime.js';
import { encodeStatus, statusFor, type MetaStatus } from './status.js';

/** The transport's side of a session (SPDY streams or WebSocket channels). */
export interface SessionTransport {
  io: SessionIo;
  /** Write the status bytes on the error stream and end it. */
  writeStatus(bytes: Buffer | null): Promise<void>;
  /** Close the connection (after everything written so far has been sent). */
  close(): void;
  /** Aborts when the client goes away. */
  clientGone: AbortSignal;
}

export type SessionRequest = { kind: 'exec'; req: ExecRequest } | { kind: 'attach'; req: AttachRequest };

/** End a writable and wait until its data is out, or until the client is gone. */
async function endAndFlush(w: Writable | undefined, gone: AbortSignal): Promise<void> {
  if (!w || w.destroyed) return;
  if (!w.writableEnded) w.end();
  try {
    await finished(w, { readable: false, signal: gone });
  } catch {
    // destroyed or the client left: nothing more to flush
  }
}

export async function runSession(
  request: SessionRequest,
  t: SessionTransport,
  runtime: StreamingRuntime,
  o: { jsonStatus: boolean; serverStopping: AbortSignal; log: Logger },
): Promise<MetaStatus> {
  const signal = AbortSignal.any([t.clientGone, o.serverStopping]);
  const started = Date.now();
  o.log.debug({ containerId: request.req.containerId, tty: request.req.tty }, `${request.kind} session started`);
  let status: MetaStatus;
  try {
    if (request.kind === 'exec') {
      const { exitCode } = await runtime.exec(request.req, t.io, signal);
      status = statusFor({ exitCode }, request.req.cmd);
    } else {
      await runtime.attach(request.req, t.io, signal);
      status = statusFor('attached');
    }
  } catch (err) {
    const what = request.kind === 'exec' ? 'error executing command in container' : 'error attaching to container';
    o.log.warn({ err: messageOf(err), containerId: request.req.containerId }, `${request.kind} failed`);
    status = statusFor({ error: `${what}: ${messageOf(err)}` });
  }
  await Promise.all([endAndFlush(t.io.stdout, t.clientGone), endAndFlush(t.io.stderr, t.clientGone)]);
  if (!t.clientGone.aborted) {
    try {
      await t.writeStatus(encodeStatus(status, o.jsonStatus));
    } catch (err) {
      o.log.debug({ err: messageOf(err) }, 'could not write the session status');
    }
  }
  t.close();
  o.log.debug(
    { containerId: request.req.containerId, status: status.status, reason: status.reason, clientGone: t.clientGone.aborted, ms: Date.now() - started },
    `${request.kind} session ended`,
  );
  return status;
}
