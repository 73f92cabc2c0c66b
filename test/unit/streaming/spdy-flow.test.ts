import { describe, expect, it } from 'vitest';
import { FlowControl } from '../../../src/streaming/spdy/flow.js';
import { OrderedInbox } from '../../../src/streaming/spdy/inbox.js';

describe('SPDY flow-control bookkeeping', () => {
  it('limits sending to the smaller of the stream and session windows once enforcing', () => {
    const f = new FlowControl(65536, { enforce: false, acknowledge: true });
    expect(f.allowance(0)).toBe(Infinity); // like spdystream peers: no limits yet
    f.peerAnnounced();
    expect(f.allowance(1000)).toBe(1000);
    f.charge(65000);
    expect(f.allowance(1000)).toBe(536);
    f.sessionWindowUpdate(10_000);
    expect(f.allowance(1000)).toBe(1000);
    expect(f.allowance(-5)).toBe(0);
  });

  it('turns an INITIAL_WINDOW_SIZE setting into a delta for every stream', () => {
    const f = new FlowControl(65536, { enforce: true, acknowledge: true });
    expect(f.initialWindowChanged(1 << 20)).toBe((1 << 20) - 65536);
    expect(f.initialWindowChanged(1024)).toBe(1024 - (1 << 20));
  });

  it('acknowledges consumed data in half-window batches, per stream and per session', () => {
    const f = new FlowControl(65536, { enforce: true, acknowledge: true });
    f.received(1, 40_000);
    expect(f.consumed(1, 20_000, true)).toEqual([]);
    expect(f.consumed(1, 20_000, true)).toEqual([
      { streamId: 1, delta: 40_000 },
      { streamId: 0, delta: 40_000 },
    ]);
    // a finished stream is not acknowledged, the session still is
    f.received(3, 40_000);
    expect(f.consumed(3, 40_000, false)).toEqual([{ streamId: 0, delta: 40_000 }]);
    expect(f.overrun).toBe(0);
  });

  it('counts bytes the peer sends beyond our windows', () => {
    const f = new FlowControl(1000, { enforce: true, acknowledge: true });
    f.received(1, 800);
    f.received(1, 800);
    expect(f.overrun).toBe(600);
    f.received(1, 100);
    expect(f.overrun).toBe(700);
  });

  it('sends no WINDOW_UPDATE when told not to', () => {
    const f = new FlowControl(65536, { enforce: false, acknowledge: false });
    expect(f.consumed(1, 1 << 20, true)).toEqual([]);
  });
});

describe('ordered inbox', () => {
  it('keeps order across asynchronous items and tells when idle', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const inbox = new OrderedInbox<string>(
      (x) => {
        if (x === 'slow') return new Promise<void>((r) => (release = () => (seen.push(x), r())));
        seen.push(x);
        return undefined;
      },
      () => {},
    );
    inbox.push(['a', 'slow', 'b']);
    let idle = false;
    inbox.whenIdle(() => (idle = true));
    expect([seen, idle]).toEqual([['a'], false]);
    release();
    await new Promise((r) => setImmediate(r));
    expect([seen, idle]).toEqual([['a', 'slow', 'b'], true]);
  });

  it('stops at the first failure and reports it', async () => {
    const errors: string[] = [];
    const seen: string[] = [];
    const inbox = new OrderedInbox<string>(
      (x) => {
        if (x === 'bad') throw new Error('bad frame');
        seen.push(x);
        return undefined;
      },
      (e) => errors.push(e.message),
    );
    inbox.push(['a', 'bad', 'c']);
    inbox.push(['d']);
    expect([seen, errors]).toEqual([['a'], ['bad frame']]);
  });
});
