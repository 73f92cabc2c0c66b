/**
 * HTTP answers on a socket the http server handed over for an upgrade (it is no longer an
 * http.ServerResponse, so the status line is written by hand).
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export type HeaderValues = Record<string, string | string[]>;

function headerLines(headers: HeaderValues): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) out += `${name}: ${v}\r\n`;
  }
  return out;
}

/** Answer with an error and close the socket. */
export function rejectUpgrade(socket: Duplex, status: number, message: string, headers: HeaderValues = {}): void {
  const body = Buffer.from(`${message}\n`);
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    headerLines({
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': String(body.length),
      Connection: 'close',
      ...headers,
    }) +
    '\r\n';
  if (socket.writable) socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
  else socket.destroy();
}

/** The 101 answer that switches the socket to SPDY/3.1. */
export function acceptSpdyUpgrade(socket: Duplex, protocol: string): void {
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      headerLines({ Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol }) +
      '\r\n',
  );
}
