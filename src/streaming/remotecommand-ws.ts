/**
 * remotecommand (exec / attach) over WebSocket: channels 0 stdin, 1 stdout, 2 stderr,
 * 3 error, 4 resize. Right after the upgrade the server sends an empty message on the lowest
 * channel it will write (stdout, else stderr, else error) so the client knows it is up; at the
 * end it writes the status on channel 3 and closes the socket normally (1000), which is how
 * the client learns every channel has ended.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../util/log.js';
import type { WsProtocolInfo } from './negotiate.js';
import { ResizeQueue } from './resize.js';
import type { AttachRequest, ExecRequest } from './runtime.js';
import type { SessionTransport } from './session.js';
import { ChannelStream, routeChannels } from './ws-channels.js';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;

export function wsRemoteCommandTransport(
  ws: WebSocket,
  req: ExecRequest | AttachRequest,
  info: WsProtocolInfo,
  log: Logger,
): SessionTransport {
  const ch = (n: number): ChannelStream => new ChannelStream(ws, n, info.base64);
  const channels = new Map<number, ChannelStream>();
  const stdin = req.stdin ? ch(STDIN) : undefined;
  const stdout = req.stdout ? ch(STDOUT) : undefined;
  const stderr = req.stderr && !req.tty ? ch(STDERR) : undefined;
  const error = ch(ERROR);
  const resizeChannel = ch(RESIZE);
  for (const c of [stdin, stdout, stderr, error, resizeChannel]) if (c) channels.set(c.channel, c);

  const gone = new AbortController();
  ws.once('close', () => gone.abort());
  routeChannels(ws, channels, {
    base64: info.base64,
    closeSignal: info.closeSignal,
    onInvalid: (why) => log.debug({ why }, 'ignoring a malformed WebSocket message'),
  });

  let resize: ResizeQueue | undefined;
  if (req.tty) {
    resize = new ResizeQueue();
    resizeChannel.on('data', (b: Buffer) => resize!.pushBytes(b));
    resizeChannel.on('end', () => resize!.end());
  } else {
    resizeChannel.resume();
  }
  error.resume();

  (stdout ?? stderr ?? error).send(Buffer.alloc(0));

  return {
    io: { stdin, stdout, stderr, resize },
    clientGone: gone.signal,
    writeStatus: (bytes) => new Promise((resolve) => (bytes ? error.send(bytes, resolve) : resolve())),
    close: () => {
      resize?.end();
      if (ws.readyState === ws.OPEN) ws.close(1000);
      const t = setTimeout(() => ws.terminate(), 5000);
      t.unref();
      ws.once('close', () => clearTimeout(t));
    },
  };
}
