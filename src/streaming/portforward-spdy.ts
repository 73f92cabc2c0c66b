/**
 * Port-forward over SPDY (portforward.k8s.io): for each forwarded TCP connection the client
 * opens an error stream and a data stream, both with headers `port` and `requestid` (old
 * clients omit requestid; the pair is then guessed from stream ids, as the kubelet does).
 * One SPDY connection carries any number of such pairs, for any ports, concurrently. A failure
 * of one forward is written on its error stream; the connection goes on serving the others.
 */
import type { Logger } from '../util/log.js';
import { messageOf } from '../util/errors.js';
import type { StreamingRuntime } from './runtime.js';
import type { SpdyConnection } from './spdy/connection.js';
import { RstStatus } from './spdy/frames.js';
import { headerValue, type SpdyHeaders } from './spdy/header-block.js';
import type { SpdyStream } from './spdy/stream.js';

interface Pair {
  port: number;
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Checks a stream's headers; returns its role and port, or why it is refused (pure). */
export function classifyPortForwardStream(
  headers: SpdyHeaders,
  streamId: number,
): { type: 'data' | 'error'; port: number; requestId: string } | { refuse: string } {
  const portText = headerValue(headers, 'port');
  if (!portText) return { refuse: '"port" header is required' };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    return { refuse: `unable to parse "${portText}" as a port` };
  }
  const type = headerValue(headers, 'streamtype');
  if (type !== 'data' && type !== 'error') return { refuse: `invalid stream type ${JSON.stringify(type ?? '')}` };
  let requestId = headerValue(headers, 'requestid');
  if (!requestId) requestId = String(type === 'error' ? streamId : streamId - 2);
  return { type, port: Number(portText), requestId };
}

export function servePortForwardSpdy(
  conn: SpdyConnection,
  podSandboxId: string,
  runtime: StreamingRuntime,
  o: { timeoutMs: number; serverStopping: AbortSignal; log: Logger },
): Promise<void> {
  const pairs = new Map<string, Pair>();
  const gone = new AbortController();
  const signal = AbortSignal.any([gone.signal, o.serverStopping]);

  const forward = async (requestId: string, p: Pair): Promise<void> => {
    const { data, error } = p as Required<Pair>;
    try {
      await runtime.portForward({ podSandboxId, port: p.port }, data, signal);
    } catch (err) {
      const msg = `error forwarding port ${p.port} to pod ${podSandboxId}: ${messageOf(err)}`;
      o.log.info({ requestId, port: p.port, err: messageOf(err) }, 'port-forward failed');
      error.write(msg);
    }
    if (!data.destroyed && !data.writableEnded) data.end();
    error.end();
  };

  const onStream = (s: SpdyStream): void => {
    const c = classifyPortForwardStream(s.headers, s.id);
    if ('refuse' in c) {
      o.log.debug({ why: c.refuse }, 'refusing a port-forward stream');
      s.reset(RstStatus.RefusedStream);
      return;
    }
    let p = pairs.get(c.requestId);
    if (!p) {
      const timer = setTimeout(() => {
        pairs.delete(c.requestId);
        p!.error?.end(`timed out waiting for the ${p!.data ? 'error' : 'data'} stream of request ${c.requestId}`);
        p!.data?.reset();
      }, o.timeoutMs);
      timer.unref();
      p = { port: c.port, timer };
      pairs.set(c.requestId, p);
    }
    if (p[c.type]) {
      s.reset(RstStatus.ProtocolError);
      p.error?.write(`error processing stream for request ${c.requestId}: ${c.type} stream already assigned`);
      return;
    }
    s.reply();
    p[c.type] = s;
    if (c.type === 'error') s.resume(); // the client never writes on it
    if (p.data && p.error) {
      clearTimeout(p.timer);
      pairs.delete(c.requestId);
      void forward(c.requestId, p);
    }
  };

  conn.on('stream', onStream);
  return new Promise((resolve) => {
    conn.once('close', () => {
      gone.abort();
      for (const p of pairs.values()) clearTimeout(p.timer);
      resolve();
    });
  });
}
