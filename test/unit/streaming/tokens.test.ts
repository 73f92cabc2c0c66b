import { describe, expect, it } from 'vitest';
import { BerthError, Code } from '../../../src/util/errors.js';
import { RequestCache, type CachedRequest } from '../../../src/streaming/tokens.js';

const exec: CachedRequest = { kind: 'exec', req: { containerId: 'c', cmd: ['ls'], tty: false, stdin: false, stdout: true, stderr: false } };

describe('streaming request tokens', () => {
  it('are URL-safe, distinct, and can be used once', () => {
    const cache = new RequestCache();
    const a = cache.insert(exec);
    const b = cache.insert(exec);
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(cache.consume(a, 'exec')).toEqual(exec);
    expect(cache.consume(a, 'exec')).toBeUndefined();
  });

  it('expire after the time-to-live', () => {
    let now = 1000;
    const cache = new RequestCache({ ttlMs: 60_000, now: () => now });
    const t = cache.insert(exec);
    now += 60_001;
    expect(cache.consume(t, 'exec')).toBeUndefined();
  });

  it('do not open another kind of session (and are spent by trying)', () => {
    const cache = new RequestCache();
    const t = cache.insert(exec);
    expect(cache.consume(t, 'attach')).toBeUndefined();
    expect(cache.consume(t, 'exec')).toBeUndefined();
  });

  it('are limited in number, expired ones making room', () => {
    let now = 0;
    const cache = new RequestCache({ maxInFlight: 2, ttlMs: 10, now: () => now });
    cache.insert(exec);
    cache.insert(exec);
    let err: unknown;
    try {
      cache.insert(exec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthError);
    expect((err as BerthError).code).toBe(Code.RESOURCE_EXHAUSTED);
    now = 11;
    expect(() => cache.insert(exec)).not.toThrow();
    expect(cache.size).toBe(1);
  });
});
