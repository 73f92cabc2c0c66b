/**
 * Registry authentication against the real thing: docker-registry with token auth (it sends
 * the Bearer challenge and verifies our fixture's JWTs), and HTTP Basic through a proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busybox, publish } from '../../fixtures/image-builder.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { startProxy, type RegistryProxy } from '../../fixtures/registry-proxy.js';
import { startTokenServer, type TokenServer } from '../../fixtures/token-server.js';
import { Code } from '../../../src/util/errors.js';
import { expectCode, registryConfig, serviceFactory } from './helpers.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('bearer token auth (docker-registry auth.token)', () => {
  let tokens: TokenServer;
  let reg: Registry;
  const services = serviceFactory();
  const ref = (r: string) => `${reg.host}/${r}`;
  const open = (over: Parameters<typeof registryConfig>[0] = {}) => services.open({ registry: registryConfig({ insecure: [reg.host], ...over }) });

  beforeAll(async () => {
    tokens = await startTokenServer({ users: { alice: 'secret' }, refreshTokens: ['refresh-1'] });
    reg = await startRegistry({ tokenAuth: tokens });
    await publish({ url: reg.url, tokens }, 'team/app:1', busybox());
    await publish({ url: reg.url, tokens }, 'team/app:2', busybox({ config: { Cmd: ['id'] } }));
  });
  afterAll(async () => {
    await services.cleanup();
    await reg?.stop();
    await tokens?.stop();
  });

  it('pulls with the request credentials and reuses the token until it expires', async () => {
    const svc = await open();
    const auth = { username: 'alice', password: 'secret' };
    const before = tokens.requests.length;
    const img = await svc.pull(ref('team/app:1'), { auth });
    expect(img.repoTags).toEqual([ref('team/app:1')]);
    const issued = tokens.requests.slice(before);
    expect(issued).toEqual([{ method: 'GET', user: 'alice', scopes: ['repository:team/app:pull'], status: 200 }]);
    await svc.pull(ref('team/app:2'), { auth });
    expect(tokens.requests.length).toBe(before + 1);
  });

  it('refuses wrong credentials with UNAUTHENTICATED naming registry and repository', async () => {
    const svc = await open();
    const err = await expectCode(svc.pull(ref('team/app:1'), { auth: { username: 'alice', password: 'wrong' } }), Code.UNAUTHENTICATED);
    expect(err.message).toContain(reg.host);
    expect(err.message).toContain('team/app');
    expect(svc.list()).toEqual([]);
  });

  it('refuses a pull without credentials', async () => {
    const svc = await open();
    await expectCode(svc.pull(ref('team/app:1')), Code.UNAUTHENTICATED);
  });

  it('uses registry.auths from the config (base64 auth)', async () => {
    const svc = await open({ auths: { [reg.host]: { auth: b64('alice:secret') } } });
    expect((await svc.pull(ref('team/app:1'))).repoTags).toEqual([ref('team/app:1')]);
  });

  it('exchanges an identity token (OAuth2 refresh token) for a registry token', async () => {
    const svc = await open();
    const before = tokens.requests.length;
    await svc.pull(ref('team/app:1'), { auth: { identityToken: 'refresh-1' } });
    expect(tokens.requests.slice(before).map((r) => [r.method, r.status])).toEqual([['POST', 200]]);
    await expectCode((await open()).pull(ref('team/app:1'), { auth: { identityToken: 'bogus' } }), Code.UNAUTHENTICATED);
  });

  it('sends a CRI registryToken as the bearer token directly', async () => {
    const svc = await open();
    const before = tokens.requests.length;
    const token = tokens.issue(['repository:team/app:pull'], 'alice');
    await svc.pull(ref('team/app:1'), { auth: { registryToken: token } });
    expect(tokens.requests.length).toBe(before);
  });
});

describe('anonymous token auth', () => {
  it('pulls with an anonymous token when the token server allows it', async () => {
    const tokens = await startTokenServer({ anonymous: true });
    const services = serviceFactory();
    let reg: Registry | undefined;
    try {
      reg = await startRegistry({ tokenAuth: tokens });
      await publish({ url: reg.url, tokens }, 'pub/app:1', busybox());
      const svc = await services.open({ registry: registryConfig({ insecure: [reg.host] }) });
      await svc.pull(`${reg.host}/pub/app:1`);
      expect(tokens.requests.at(-1)).toMatchObject({ user: undefined, status: 200 });
    } finally {
      await services.cleanup();
      await reg?.stop();
      await tokens.stop();
    }
  });
});

describe('HTTP Basic auth', () => {
  let reg: Registry;
  let proxy: RegistryProxy;
  const services = serviceFactory();

  beforeAll(async () => {
    reg = await startRegistry();
    await publish(reg, 'team/basic:1', busybox());
    proxy = await startProxy({ target: reg.url, basicAuth: { username: 'bob', password: 'pw' } });
  });
  afterAll(async () => {
    await services.cleanup();
    await proxy?.stop();
    await reg?.stop();
  });

  it('answers a Basic challenge with credentials from the config', async () => {
    const svc = await services.open({ registry: registryConfig({ insecure: [proxy.host], auths: { [proxy.host]: { username: 'bob', password: 'pw' } } }) });
    await svc.pull(`${proxy.host}/team/basic:1`);
    const auths = proxy.requests.map((r) => r.authorization);
    expect(auths[0]).toBeUndefined(); // first request learns the challenge…
    expect(auths.slice(2).every((a) => a?.startsWith('Basic '))).toBe(true); // …later ones authenticate up front
  });

  it('UNAUTHENTICATED with wrong or missing credentials', async () => {
    const wrong = await services.open({ registry: registryConfig({ insecure: [proxy.host] }) });
    await expectCode(wrong.pull(`${proxy.host}/team/basic:1`, { auth: { username: 'bob', password: 'nope' } }), Code.UNAUTHENTICATED);
    await expectCode(wrong.pull(`${proxy.host}/team/basic:1`), Code.UNAUTHENTICATED);
  });
});
