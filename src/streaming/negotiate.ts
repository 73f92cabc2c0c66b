/**
 * Which protocol a streaming request speaks, decided from its headers alone (pure).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { StreamKind } from './tokens.js';

/** SPDY remotecommand protocols, newest first (server preference does not matter: the first
 * client-listed protocol we support wins, as in apimachinery's Handshake). */
export const SPDY_REMOTECOMMAND_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];
export const SPDY_PORTFORWARD_PROTOCOLS = ['portforward.k8s.io'];

export interface WsProtocolInfo {
  /** Channel payloads are base64 text with an ASCII channel digit. */
  base64: boolean;
  /** The error channel carries a JSON metav1.Status (v4+), else plain text. */
  jsonStatus: boolean;
  /** The client may half-close a channel with [255, channel] (v5). */
  closeSignal: boolean;
}

export const WS_REMOTECOMMAND_PROTOCOLS: Record<string, WsProtocolInfo> = {
  'v5.channel.k8s.io': { base64: false, jsonStatus: true, closeSignal: true },
  'v4.channel.k8s.io': { base64: false, jsonStatus: true, closeSignal: false },
  'v4.base64.channel.k8s.io': { base64: true, jsonStatus: true, closeSignal: false },
  'channel.k8s.io': { base64: false, jsonStatus: false, closeSignal: false },
  'base64.channel.k8s.io': { base64: true, jsonStatus: false, closeSignal: false },
};

export const WS_PORTFORWARD_PROTOCOLS: Record<string, WsProtocolInfo> = {
  'v4.channel.k8s.io': { base64: false, jsonStatus: false, closeSignal: false },
  'v4.base64.channel.k8s.io': { base64: true, jsonStatus: false, closeSignal: false },
  'portforward.k8s.io': { base64: false, jsonStatus: false, closeSignal: false },
};

export type Negotiation =
  | { transport: 'spdy'; protocol: string }
  | { transport: 'websocket'; protocol: string; info: WsProtocolInfo }
  | { transport: 'reject'; status: number; message: string; headers?: Record<string, string | string[]> };

function listHeader(v: string | string[] | undefined): string[] {
  const all = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return all.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s.length > 0);
}

export function isWebSocketRequest(h: IncomingHttpHeaders): boolean {
  return (h.upgrade ?? '').toLowerCase() === 'websocket';
}

export function negotiate(kind: StreamKind, h: IncomingHttpHeaders): Negotiation {
  return isWebSocketRequest(h) ? negotiateWebSocket(kind, h) : negotiateSpdy(kind, h);
}

function negotiateSpdy(kind: StreamKind, h: IncomingHttpHeaders): Negotiation {
  const offered = listHeader(h['x-stream-protocol-version']);
  if (offered.length === 0) {
    return { transport: 'reject', status: 400, message: 'unable to upgrade: header X-Stream-Protocol-Version is missing or empty' };
  }
  const supported = kind === 'portforward' ? SPDY_PORTFORWARD_PROTOCOLS : SPDY_REMOTECOMMAND_PROTOCOLS;
  const chosen = offered.find((p) => supported.includes(p));
  if (!chosen) {
    return {
      transport: 'reject',
      status: 403,
      message: `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`,
      headers: { 'X-Accepted-Stream-Protocol-Versions': supported },
    };
  }
  const connection = (h.connection ?? '').toLowerCase();
  const upgrade = (h.upgrade ?? '').toLowerCase();
  if (!connection.includes('upgrade') || !upgrade.includes('spdy/3.1')) {
    return { transport: 'reject', status: 400, message: 'unable to upgrade: missing upgrade headers in request (want Connection: Upgrade, Upgrade: SPDY/3.1 or websocket)' };
  }
  return { transport: 'spdy', protocol: chosen };
}

function negotiateWebSocket(kind: StreamKind, h: IncomingHttpHeaders): Negotiation {
  const offered = listHeader(h['sec-websocket-protocol']);
  const table = kind === 'portforward' ? WS_PORTFORWARD_PROTOCOLS : WS_REMOTECOMMAND_PROTOCOLS;
  if (offered.length === 0) {
    // No subprotocol asked for: the oldest binary channel protocol, as the kubelet does.
    const info = kind === 'portforward' ? WS_PORTFORWARD_PROTOCOLS['v4.channel.k8s.io']! : WS_REMOTECOMMAND_PROTOCOLS['channel.k8s.io']!;
    return { transport: 'websocket', protocol: '', info };
  }
  for (const p of offered) {
    const info = table[p];
    if (info) return { transport: 'websocket', protocol: p, info };
  }
  const accepted = Object.keys(table);
  return {
    transport: 'reject',
    status: 403,
    message: `unable to upgrade: requested WebSocket subprotocols [${offered.join(' ')}] are not supported; this server accepts [${accepted.join(' ')}]`,
  };
}

/** Status JSON (v4+) or plain text (older) on the error stream of a SPDY session. */
export function spdyJsonStatus(protocol: string): boolean {
  return protocol === 'v4.channel.k8s.io';
}

/** Whether the client opens a resize stream for tty sessions (v3 and later). */
export function spdySupportsResize(protocol: string): boolean {
  return protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io';
}
