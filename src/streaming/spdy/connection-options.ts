/** What a SPDY connection can be told (see connection.ts), its stats, and the defaults by role. */
import type { Logger } from '../../util/log.js';
import { DEFAULT_WINDOW } from './flow.js';

export interface SpdyConnectionOptions {
  role: 'server' | 'client';
  /** See the module comment. Default: 'when-peer-announces' for servers, 'always' for clients. */
  flowControl?: 'always' | 'when-peer-announces';
  /** Our per-stream receive window; a SETTINGS frame announces it if it is not 64 KiB. */
  initialWindow?: number;
  /** Send SETTINGS (initial window size) right away, which also tells a peer using
   * 'when-peer-announces' that we do flow control. Default: true for clients. */
  announceSettings?: boolean;
  /** Acknowledge consumed data with WINDOW_UPDATE (default true). Tests turn it off to
   * behave like spdystream. */
  sendWindowUpdates?: boolean;
  /** Largest DATA payload we send. Default 16 KiB. */
  maxDataFrame?: number;
  /** After close(), destroy the socket if the peer has not closed it within this time. */
  closeGraceMs?: number;
  logger?: Logger;
}

export interface SpdyStats {
  /** DATA bytes the peer sent beyond the windows we advertised. */
  peerWindowOverrun: number;
  framesIn: number;
  framesOut: number;
}

export interface ResolvedOptions {
  /** The first stream and ping id we use: odd for clients, even for servers. */
  firstId: number;
  initialWindow: number;
  /** Enforce the peer's windows from the start (else only once it announces any). */
  enforceFlow: boolean;
  sendWindowUpdates: boolean;
  maxDataFrame: number;
  /** Send SETTINGS right away: asked for, or our window differs from the protocol default. */
  announceSettings: boolean;
}

export function resolveOptions(opts: SpdyConnectionOptions): ResolvedOptions {
  const client = opts.role === 'client';
  const initialWindow = opts.initialWindow ?? DEFAULT_WINDOW;
  return {
    firstId: client ? 1 : 2,
    initialWindow,
    enforceFlow: (opts.flowControl ?? (client ? 'always' : 'when-peer-announces')) === 'always',
    sendWindowUpdates: opts.sendWindowUpdates !== false,
    maxDataFrame: opts.maxDataFrame ?? 16 * 1024,
    announceSettings: (opts.announceSettings ?? client) || initialWindow !== DEFAULT_WINDOW,
  };
}
