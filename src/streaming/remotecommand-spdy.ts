/**
 * remotecommand (exec / attach) over SPDY: the client opens one stream per role, named by
 * the `streamtype` header (error, stdin, stdout, stderr, resize). The server replies to each
 * and waits, up to a timeout, for the set the request implies; then the session runs.
 */
import type { Logger } from '../util/log.js';
import { ResizeQueue } from './resize.js';
import type { AttachRequest, ExecRequest } from './runtime.js';
import type { SessionTransport } from './session.js';
import type { SpdyConnection } from './spdy/connection.js';
import { RstStatus } from './spdy/frames.js';
import { headerValue } from './spdy/header-block.js';
import type { SpdyStream } from './spdy/stream.js';
import { spdySupportsResize } from './negotiate.js';

const STREAM_TYPES = ['error', 'stdin', 'stdout', 'stderr', 'resize'] as const;
type StreamType = (typeof STREAM_TYPES)[number];

/** The stream types a client opens for this request and protocol (pure). */
export function expectedStreamTypes(req: ExecRequest | AttachRequest, protocol: string): Set<StreamType> {
  const want = new Set<StreamType>(['error']);
  if (req.stdin) want.add('stdin');
  if (req.stdout) want.add('stdout');
  if (req.stderr && !req.tty) want.add('stderr');
  if (req.tty && spdySupportsResize(protocol)) want.add('resize');
  return want;
}

/** Wait for the client's streams; undefined (connection closed) on timeout or disconnect. */
export function acceptRemoteCommandStreams(
  conn: SpdyConnection,
  req: ExecRequest | AttachRequest,
  protocol: string,
  o: { timeoutMs: number; log: Logger },
): Promise<SessionTransport | undefined> {
  const want = expectedStreamTypes(req, protocol);
  const got = new Map<StreamType, SpdyStream>();
  return new Promise((resolve) => {
    const done = (t: SessionTransport | undefined): void => {
      clearTimeout(timer);
      conn.off('stream', onStream);
      conn.off('close', onClose);
      if (!t) conn.close();
      resolve(t);
    };
    const timer = setTimeout(() => {
      o.log.warn({ have: [...got.keys()], want: [...want] }, 'timed out waiting for the client to create streams');
      done(undefined);
    }, o.timeoutMs);
    const onClose = (): void => done(undefined);
    const onStream = (s: SpdyStream): void => {
      const type = headerValue(s.headers, 'streamtype') as StreamType | undefined;
      if (!type || !STREAM_TYPES.includes(type) || got.has(type)) {
        o.log.debug({ type }, 'refusing an unexpected or duplicate stream');
        s.reset(RstStatus.RefusedStream);
        return;
      }
      s.reply();
      got.set(type, s);
      if ([...want].every((w) => got.has(w))) done(spdyTransport(conn, got));
    };
    conn.on('stream', onStream);
    conn.on('close', onClose);
  });
}

function spdyTransport(conn: SpdyConnection, got: Map<StreamType, SpdyStream>): SessionTransport {
  const gone = new AbortController();
  if (conn.closed) gone.abort();
  else conn.once('close', () => gone.abort());
  // A stream we are not reading (the error stream, stdout/stderr of the peer side) must not
  // sit on unread data and hold its window.
  for (const t of ['error', 'stdout', 'stderr'] as const) got.get(t)?.resume();
  let resize: ResizeQueue | undefined;
  const resizeStream = got.get('resize');
  if (resizeStream) {
    resize = new ResizeQueue();
    resize.feedFrom(resizeStream);
  }
  const errorStream = got.get('error')!;
  return {
    io: { stdin: got.get('stdin'), stdout: got.get('stdout'), stderr: got.get('stderr'), resize },
    clientGone: gone.signal,
    writeStatus: (bytes) =>
      new Promise((resolve) => {
        if (bytes) errorStream.write(bytes);
        errorStream.end(() => resolve());
        errorStream.once('close', () => resolve());
      }),
    close: () => {
      resize?.end();
      got.get('stdin')?.end();
      conn.close();
    },
  };
}
