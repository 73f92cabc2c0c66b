import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chainIds } from '../../../src/images/chain-id.js';
import { imageUser } from '../../../src/images/user.js';
import { mountpointOf } from '../../../src/images/usage.js';
import { parseChallenges } from '../../../src/images/registry/auth/challenge.js';
import { TokenCache } from '../../../src/images/registry/auth/token-cache.js';
import { limiter } from '../../../src/images/pull/limiter.js';

const d = (c: string) => 'sha256:' + c.repeat(64);

describe('chain ids', () => {
  it('follow the OCI image-spec formula', () => {
    const [a, b, c] = [d('1'), d('2'), d('3')];
    const ab = 'sha256:' + createHash('sha256').update(`${a} ${b}`).digest('hex');
    const abc = 'sha256:' + createHash('sha256').update(`${ab} ${c}`).digest('hex');
    expect(chainIds([a, b, c])).toEqual([a, ab, abc]);
    expect(chainIds([])).toEqual([]);
  });
});

describe('image USER for CRI', () => {
  it.each([
    ['', {}],
    [undefined, {}],
    ['0', { uid: 0 }],
    ['1000:1000', { uid: 1000 }],
    ['app', { username: 'app' }],
    ['app:staff', { username: 'app' }],
    ['1000x', { username: '1000x' }],
    [':100', {}],
  ])('%j → %j', (user, want) => {
    expect(imageUser(user)).toEqual(want);
  });
});

describe('mountinfo', () => {
  const info = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '30 22 0:25 / /var/lib rw shared:2 - tmpfs tmpfs rw',
    '31 30 0:26 / /var/lib/berth\\040x rw shared:3 - tmpfs tmpfs rw',
    '',
  ].join('\n');
  it('finds the longest containing mount point', () => {
    expect(mountpointOf('/var/lib/berth/images', info)).toBe('/var/lib');
    expect(mountpointOf('/var/lib/berth x/images', info)).toBe('/var/lib/berth x');
    expect(mountpointOf('/var/library', info)).toBe('/');
    expect(mountpointOf('/var/lib', info)).toBe('/var/lib');
  });
});

describe('WWW-Authenticate', () => {
  it('parses a bearer challenge', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });
  it('parses several challenges, tokens, escapes and spacing', () => {
    expect(parseChallenges('Basic realm="a \\"b\\"", Bearer realm=http://x/t , service = s,error="insufficient_scope"')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'http://x/t', service: 's', error: 'insufficient_scope' } },
    ]);
    expect(parseChallenges(['Basic realm="r"', 'Bearer realm="t"']).map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('Basic')).toEqual([{ scheme: 'basic', params: {} }]);
  });
});

describe('token cache', () => {
  it('keeps a token until shortly before it expires', () => {
    let now = 1_000_000;
    const c = new TokenCache(() => now);
    const k = TokenCache.key({ realm: 'r', service: 's', scope: 'repository:x:pull', credential: 'anon' });
    c.set(k, 't', 300);
    now += 269_000;
    expect(c.get(k)).toBe('t');
    now += 2_000;
    expect(c.get(k)).toBeUndefined();
  });
  it('defaults to 60 s and separates scopes and credentials', () => {
    let now = 0;
    const c = new TokenCache(() => now);
    const k1 = TokenCache.key({ realm: 'r', scope: 'a', credential: 'u1' });
    const k2 = TokenCache.key({ realm: 'r', scope: 'a', credential: 'u2' });
    c.set(k1, 't1', undefined);
    expect(c.get(k2)).toBeUndefined();
    now = 53_000;
    expect(c.get(k1)).toBe('t1');
    now = 55_000;
    expect(c.get(k1)).toBeUndefined();
  });
  it('is bounded', () => {
    const c = new TokenCache(() => 0, 3);
    for (let i = 0; i < 10; i++) c.set(String(i), 't', 60);
    expect(c.size).toBeLessThanOrEqual(3);
    expect(c.get('9')).toBe('t');
  });
});

describe('limiter', () => {
  it('runs at most n at once, in order', async () => {
    const slot = limiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        slot(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
          active--;
        }),
      ),
    );
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });
  it('passes failures through and keeps going', async () => {
    const slot = limiter(1);
    await expect(slot(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(slot(async () => 7)).resolves.toBe(7);
  });
});
