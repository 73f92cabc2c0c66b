/**
 * The ordered output of one SPDY connection. Frames reach the socket in the order they were
 * queued, even when a frame's bytes are produced later (header blocks are compressed
 * asynchronously): such a frame reserves its place first and is filled in when ready.
 * A queued frame may carry a callback, called once the socket has taken the bytes without
 * asking to wait ("drain"), which is how stream writers feel socket backpressure.
 */
import type { Duplex } from 'node:stream';

interface Slot {
  bytes: Buffer | null;
  cb?: () => void;
}

export class FrameOutput {
  private readonly queue: Slot[] = [];
  private waitingDrain: Array<() => void> = [];
  private blocked = false;
  private ending = false;
  private dead = false;

  constructor(private readonly socket: Duplex) {
    socket.on('drain', () => {
      this.blocked = false;
      const cbs = this.waitingDrain;
      this.waitingDrain = [];
      for (const cb of cbs) cb();
    });
  }

  /** Queue ready bytes. */
  push(bytes: Buffer, cb?: () => void): void {
    this.queue.push({ bytes, cb });
    this.flush();
  }

  /** Reserve a place for bytes produced later; call the returned function with them. */
  reserve(): (bytes: Buffer) => void {
    const slot: Slot = { bytes: null };
    this.queue.push(slot);
    return (bytes) => {
      slot.bytes = bytes;
      this.flush();
    };
  }

  /** End the socket once everything queued so far (and reserved) has been written. */
  endWhenFlushed(): void {
    this.ending = true;
    this.flush();
  }

  /** The socket is gone: release every waiting writer so nothing hangs. */
  abandon(): void {
    this.dead = true;
    const cbs = [...this.waitingDrain, ...this.queue.flatMap((s) => (s.cb ? [s.cb] : []))];
    this.waitingDrain = [];
    this.queue.length = 0;
    for (const cb of cbs) cb();
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }

  private flush(): void {
    if (this.dead) {
      this.abandon();
      return;
    }
    while (this.queue.length > 0 && this.queue[0]!.bytes) {
      const slot = this.queue.shift()!;
      const ok = this.socket.write(slot.bytes!);
      if (!ok) this.blocked = true;
      if (slot.cb) {
        if (this.blocked) this.waitingDrain.push(slot.cb);
        else slot.cb();
      }
    }
    if (this.ending && this.queue.length === 0 && !this.socket.writableEnded) this.socket.end();
  }
}
