/**
 * SPDY/3.1 flow-control bookkeeping for one connection (pure: numbers in, decisions out).
 *
 * Send side: every stream has a window (the peer's SETTINGS_INITIAL_WINDOW_SIZE, 64 KiB by
 * default, kept on the stream) and the session has one more (64 KiB, only WINDOW_UPDATE on
 * stream 0 grows it); DATA may go out only within both. Enforcement can start switched off
 * (see connection.ts on Go's spdystream) and switches on for good once the peer shows it does
 * flow control.
 *
 * Receive side: we advertise `ourWindow` per stream and 64 KiB for the session; bytes count
 * as consumed once handed to the reader, and are acknowledged in batches of half a window.
 */

export const DEFAULT_WINDOW = 64 * 1024;

export interface WindowUpdate {
  streamId: number;
  delta: number;
}

interface RecvState {
  window: number;
  unacked: number;
}

export class FlowControl {
  enforcing: boolean;
  peerInitialWindow = DEFAULT_WINDOW;
  sessionSendWindow = DEFAULT_WINDOW;
  /** DATA bytes the peer sent beyond what we advertised. */
  overrun = 0;
  private sessionRecvWindow = DEFAULT_WINDOW;
  private sessionUnacked = 0;
  private readonly recv = new Map<number, RecvState>();

  constructor(
    readonly ourWindow: number,
    o: { enforce: boolean; acknowledge: boolean },
  ) {
    this.enforcing = o.enforce;
    this.acknowledge = o.acknowledge;
  }

  private readonly acknowledge: boolean;

  /** Bytes that may be sent now on a stream whose send window is `streamWindow`. */
  allowance(streamWindow: number): number {
    return this.enforcing ? Math.max(0, Math.min(streamWindow, this.sessionSendWindow)) : Infinity;
  }

  /** Account `n` bytes sent (the caller lowers the stream's own window). */
  charge(n: number): void {
    this.sessionSendWindow -= n;
  }

  /** The peer sent SETTINGS or WINDOW_UPDATE: it does flow control. */
  peerAnnounced(): void {
    this.enforcing = true;
  }

  /** SETTINGS_INITIAL_WINDOW_SIZE changed; returns the delta to add to every stream's window. */
  initialWindowChanged(value: number): number {
    const delta = value - this.peerInitialWindow;
    this.peerInitialWindow = value;
    return delta;
  }

  sessionWindowUpdate(delta: number): void {
    this.sessionSendWindow += delta;
  }

  /** DATA arrived (streamId undefined: for no stream we know). */
  received(streamId: number | undefined, n: number): void {
    const overBefore = Math.max(0, -this.sessionRecvWindow);
    this.sessionRecvWindow -= n;
    let over = Math.max(0, -this.sessionRecvWindow) - overBefore;
    if (streamId !== undefined) {
      const s = this.state(streamId);
      const before = Math.max(0, -s.window);
      s.window -= n;
      over = Math.max(over, Math.max(0, -s.window) - before);
    }
    this.overrun += over;
  }

  /**
   * `n` bytes were handed to the reader (or dropped). Returns the WINDOW_UPDATEs to send.
   * `streamOpen` false: the peer will send no more on the stream, so only the session is acked.
   */
  consumed(streamId: number | undefined, n: number, streamOpen: boolean): WindowUpdate[] {
    if (!this.acknowledge || n <= 0) return [];
    const out: WindowUpdate[] = [];
    if (streamId !== undefined && streamOpen) {
      const s = this.state(streamId);
      s.unacked += n;
      if (s.unacked >= this.ourWindow / 2) {
        out.push({ streamId, delta: s.unacked });
        s.window += s.unacked;
        s.unacked = 0;
      }
    }
    this.sessionUnacked += n;
    if (this.sessionUnacked >= DEFAULT_WINDOW / 2) {
      out.push({ streamId: 0, delta: this.sessionUnacked });
      this.sessionRecvWindow += this.sessionUnacked;
      this.sessionUnacked = 0;
    }
    return out;
  }

  forget(streamId: number): void {
    this.recv.delete(streamId);
  }

  private state(streamId: number): RecvState {
    let s = this.recv.get(streamId);
    if (!s) {
      s = { window: this.ourWindow, unacked: 0 };
      this.recv.set(streamId, s);
    }
    return s;
  }
}
