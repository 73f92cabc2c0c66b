/**
 * Port-forward over WebSocket (v4.channel.k8s.io and its base64 twin): the ports come from
 * `?port=` query parameters (repeated or comma-separated), else from the CRI request. Port i
 * gets channel 2i for data (both ways) and 2i+1 for errors (server to client); the first
 * message on each of those channels is the port as 2 bytes little-endian. One TCP connection
 * per port; the socket closes once every port's forward has finished.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../util/log.js';
import { messageOf } from '../util/errors.js';
import type { WsProtocolInfo } from './negotiate.js';
import type { StreamingRuntime } from './runtime.js';
import { ChannelStream, routeChannels } from './ws-channels.js';

/** Ports from the query string, or an error message (pure). Empty when none are given. */
export function portsFromQuery(search: URLSearchParams): number[] | { error: string } {
  const ports: number[] = [];
  for (const value of search.getAll('port')) {
    if (value === '') return { error: 'query parameter "port" cannot be empty' };
    for (const p of value.split(',')) {
      if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) return { error: `unable to parse "${p}" as a port` };
      ports.push(Number(p));
    }
  }
  return ports;
}

export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

export async function servePortForwardWs(
  ws: WebSocket,
  podSandboxId: string,
  ports: number[],
  info: WsProtocolInfo,
  runtime: StreamingRuntime,
  o: { serverStopping: AbortSignal; log: Logger },
): Promise<void> {
  const channels = new Map<number, ChannelStream>();
  const gone = new AbortController();
  ws.once('close', () => gone.abort());
  const signal = AbortSignal.any([gone.signal, o.serverStopping]);
  const pairs = ports.map((port, i) => {
    const data = new ChannelStream(ws, 2 * i, info.base64);
    const error = new ChannelStream(ws, 2 * i + 1, info.base64);
    channels.set(data.channel, data);
    channels.set(error.channel, error);
    error.resume();
    // v4 has no way for the client to half-close, so when the pod side has ended (the runtime
    // ended `data`) this port is done in both directions.
    data.once('finish', () => data.endInput());
    data.send(portPrefix(port));
    error.send(portPrefix(port));
    return { port, data, error };
  });
  routeChannels(ws, channels, {
    base64: info.base64,
    closeSignal: false,
    onInvalid: (why) => o.log.debug({ why }, 'ignoring a malformed WebSocket message'),
  });

  await Promise.all(
    pairs.map(async ({ port, data, error }) => {
      try {
        await runtime.portForward({ podSandboxId, port }, data, signal);
      } catch (err) {
        o.log.info({ port, err: messageOf(err) }, 'port-forward failed');
        await new Promise<void>((r) => error.send(Buffer.from(`error forwarding port ${port} to pod ${podSandboxId}: ${messageOf(err)}`), r));
      }
    }),
  );
  if (ws.readyState === ws.OPEN) ws.close(1000);
  const t = setTimeout(() => ws.terminate(), 5000);
  t.unref();
  ws.once('close', () => clearTimeout(t));
}
