import { describe, expect, it } from 'vitest';
import { isCancelled, SingleFlight } from '../../../src/images/pull/singleflight.js';
import { Leases } from '../../../src/images/pull/leases.js';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  return { promise, resolve, reject };
};

describe('single flight', () => {
  it('runs identical concurrent work once and shares result and events', async () => {
    const sf = new SingleFlight<number, string>();
    const gate = deferred<void>();
    let runs = 0;
    const seen: string[][] = [[], []];
    const work = async (_s: AbortSignal, emit: (e: string) => void) => {
      runs++;
      await gate.promise;
      emit('half');
      return 42;
    };
    const p1 = sf.run('k', { onEvent: (e) => seen[0].push(e) }, work);
    const p2 = sf.run('k', { onEvent: (e) => seen[1].push(e) }, work);
    expect(sf.size).toBe(1);
    gate.resolve();
    expect(await Promise.all([p1, p2])).toEqual([42, 42]);
    expect(runs).toBe(1);
    expect(seen).toEqual([['half'], ['half']]);
    expect(sf.size).toBe(0);
    await sf.run('k', {}, work);
    expect(runs).toBe(2);
  });

  it('shares failures', async () => {
    const sf = new SingleFlight<number>();
    const work = async () => {
      throw new Error('boom');
    };
    const r = await Promise.allSettled([sf.run('k', {}, work), sf.run('k', {}, work)]);
    expect(r.map((x) => x.status)).toEqual(['rejected', 'rejected']);
  });

  it('a caller that cancels stops waiting; the work is aborted only when all have cancelled', async () => {
    const sf = new SingleFlight<string>();
    const gate = deferred<void>();
    let workSignal!: AbortSignal;
    const work = async (s: AbortSignal) => {
      workSignal = s;
      await gate.promise;
      return 'ok';
    };
    const c1 = new AbortController();
    const c2 = new AbortController();
    const p1 = sf.run('k', { signal: c1.signal }, work);
    const p2 = sf.run('k', { signal: c2.signal }, work);
    c1.abort();
    await expect(p1).rejects.toSatisfy(isCancelled);
    await Promise.resolve();
    expect(workSignal.aborted).toBe(false);
    c2.abort();
    expect(workSignal.aborted).toBe(true);
    gate.resolve();
    await expect(p2).rejects.toSatisfy(isCancelled);
  });

  it('refuses an already aborted caller', async () => {
    const sf = new SingleFlight<number>();
    await expect(sf.run('k', { signal: AbortSignal.abort() }, async () => 1)).rejects.toSatisfy(isCancelled);
  });
});

describe('leases', () => {
  it('count references until released', () => {
    const leases = new Leases();
    const a = leases.open();
    const b = leases.open();
    a.blob('x');
    b.blob('x');
    a.snapshot('s');
    a.release();
    expect(leases.leasedBlobs().has('x')).toBe(true);
    expect(leases.leasedSnapshots().has('s')).toBe(false);
    b.release();
    b.release();
    expect(leases.leasedBlobs().size).toBe(0);
    expect(() => a.blob('y')).toThrow();
  });
});

describe('the last cancelling caller', () => {
  it('is told only after the aborted work has settled', async () => {
    const sf = new SingleFlight<void>();
    const order: string[] = [];
    const c = new AbortController();
    const p = sf.run('k', { signal: c.signal }, async (s) => {
      await new Promise<void>((r) => (s.aborted ? setTimeout(r, 20) : s.addEventListener('abort', () => setTimeout(r, 20), { once: true })));
      order.push('work settled');
    });
    c.abort();
    await p.catch(() => order.push('caller rejected'));
    expect(order).toEqual(['work settled', 'caller rejected']);
  });
});
