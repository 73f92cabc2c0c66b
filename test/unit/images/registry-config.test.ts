import { describe, expect, it } from 'vitest';
import { credentialId, credentialsFor, decodeCredentials } from '../../../src/images/registry/auth/credentials.js';
import { isLoopbackHost, registryEndpoints } from '../../../src/images/registry/endpoints.js';
import { failureFor } from '../../../src/images/registry/failures.js';
import { BerthError, Code } from '../../../src/util/errors.js';

const cfg = (over: Partial<{ mirrors: Record<string, string[]>; insecure: string[] }> = {}) => ({ mirrors: {}, insecure: [], ...over });

describe('registry endpoints', () => {
  it('uses registry-1.docker.io for docker.io', () => {
    expect(registryEndpoints('docker.io', cfg()).map((e) => e.base)).toEqual(['https://registry-1.docker.io/v2']);
  });
  it('tries mirrors in order, then the host; appends /v2 like hosts.toml', () => {
    const eps = registryEndpoints('registry.k8s.io', cfg({ mirrors: { 'registry.k8s.io': ['http://127.0.0.1:5000', 'https://m.example/cache/', 'https://m2.example/p/v2'] } }));
    expect(eps.map((e) => [e.base, e.mirror])).toEqual([
      ['http://127.0.0.1:5000/v2', true],
      ['https://m.example/cache/v2', true],
      ['https://m2.example/p/v2', true],
      ['https://registry.k8s.io/v2', false],
    ]);
    expect(eps[0].host).toBe('127.0.0.1:5000');
  });
  it('allows plain http (and unverified TLS) only for insecure hosts', () => {
    expect(registryEndpoints('10.0.0.1:5000', cfg()).map((e) => e.base)).toEqual(['https://10.0.0.1:5000/v2']);
    const eps = registryEndpoints('10.0.0.1:5000', cfg({ insecure: ['10.0.0.1:5000'] }));
    expect(eps.map((e) => [e.base, e.skipTlsVerify])).toEqual([
      ['https://10.0.0.1:5000/v2', true],
      ['http://10.0.0.1:5000/v2', false],
    ]);
  });
  it('treats loopback registries as insecure without configuration (as containerd and Docker do)', () => {
    for (const host of ['127.0.0.1:5000', 'localhost:5000', 'LOCALHOST', '127.1.2.3', '[::1]:5000', '[0:0:0:0:0:0:0:1]:80']) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(registryEndpoints(host, cfg()).map((e) => [e.scheme, e.skipTlsVerify]), host).toEqual([
        ['https', true],
        ['http', false],
      ]);
    }
    for (const host of ['128.0.0.1:5000', 'localhost.example.com', '[::2]:5000', '10.127.0.1', 'my127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
      expect(registryEndpoints(host, cfg()).map((e) => e.base), host).toEqual([`https://${host}/v2`]);
    }
  });
  it('applies "*" mirrors to hosts without their own', () => {
    const c = cfg({ mirrors: { '*': ['http://cache:5000'], 'quay.io': [] } });
    expect(registryEndpoints('ghcr.io', c)[0].base).toBe('http://cache:5000/v2');
    expect(registryEndpoints('quay.io', c).map((e) => e.base)).toEqual(['https://quay.io/v2']);
  });
  it('rejects unusable mirror URLs', () => {
    expect(() => registryEndpoints('x.io', cfg({ mirrors: { 'x.io': ['ftp://m'] } }))).toThrow(/http/);
    expect(() => registryEndpoints('x.io', cfg({ mirrors: { 'x.io': ['not a url'] } }))).toThrow(/not a URL/);
  });
});

describe('credentials', () => {
  const up = registryEndpoints('docker.io', cfg())[0];
  const mirror = registryEndpoints('docker.io', cfg({ mirrors: { 'docker.io': ['http://m:5000'] } }))[0];
  it('decodes auth, identity and registry tokens', () => {
    expect(decodeCredentials({ auth: Buffer.from('u:p:q').toString('base64') }, 'x')).toEqual({ kind: 'basic', username: 'u', password: 'p:q' });
    expect(decodeCredentials({ username: 'u', identityToken: 'r' }, 'x')).toEqual({ kind: 'identity', username: 'u', refreshToken: 'r' });
    expect(decodeCredentials({ identitytoken: 'r' }, 'x')).toEqual({ kind: 'identity', refreshToken: 'r' });
    expect(decodeCredentials({ registryToken: 't', username: 'u' }, 'x')).toEqual({ kind: 'bearer', token: 't' });
    expect(decodeCredentials({}, 'x')).toBeUndefined();
    expect(() => decodeCredentials({ auth: Buffer.from('nocolon').toString('base64') }, 'x')).toThrow(/user:password/);
  });
  it('prefers the request, honouring its serverAddress', () => {
    const auths = { 'docker.io': { username: 'cfg', password: 'p' } };
    expect(credentialsFor(up, 'docker.io', { username: 'req', password: 'p' }, auths)).toMatchObject({ username: 'req' });
    expect(credentialsFor(up, 'docker.io', { username: 'req', password: 'p', serverAddress: 'https://index.docker.io/v1/' }, auths)).toMatchObject({ username: 'req' });
    expect(credentialsFor(up, 'docker.io', { username: 'req', password: 'p', serverAddress: 'quay.io' }, auths)).toMatchObject({ username: 'cfg' });
  });
  it('takes config auths by endpoint host, and by image host for the upstream only', () => {
    const auths = { 'docker.io': { username: 'hub', password: 'p' }, 'm:5000': { username: 'mir', password: 'p' } };
    expect(credentialsFor(up, 'docker.io', undefined, auths)).toMatchObject({ username: 'hub' });
    expect(credentialsFor(mirror, 'docker.io', undefined, auths)).toMatchObject({ username: 'mir' });
    expect(credentialsFor(mirror, 'docker.io', undefined, { 'docker.io': { username: 'hub' } })).toBeUndefined();
  });
  it('ids credentials without revealing them', () => {
    const id = credentialId({ kind: 'basic', username: 'u', password: 'secret' });
    expect(id).not.toContain('secret');
    expect(id).not.toBe(credentialId({ kind: 'basic', username: 'u', password: 'other' }));
    expect(credentialId(undefined)).toBe('anonymous');
  });
});

describe('failure classification', () => {
  const what = 'manifest r/x:1';
  it('names every endpoint and picks the most useful status', () => {
    const e = failureFor(what, 'r/x', [
      { endpoint: 'http://m1/v2', kind: 'transport', detail: 'connrefused' },
      { endpoint: 'https://r/v2', kind: 'status', status: 404, detail: '(MANIFEST_UNKNOWN)' },
    ]);
    expect(e.code).toBe(Code.NOT_FOUND);
    expect(e.message).toMatch(/http:\/\/m1\/v2: connrefused.*https:\/\/r\/v2: HTTP 404/);
    expect(failureFor(what, 'r/x', [{ endpoint: 'a', kind: 'status', status: 401 }, { endpoint: 'b', kind: 'status', status: 404 }]).code).toBe(Code.UNAUTHENTICATED);
    expect(failureFor(what, 'r/x', [{ endpoint: 'a', kind: 'status', status: 403 }]).code).toBe(Code.PERMISSION_DENIED);
    expect(failureFor(what, 'r/x', [{ endpoint: 'a', kind: 'status', status: 503 }, { endpoint: 'b', kind: 'transport', detail: 'timeout' }]).code).toBe(Code.UNAVAILABLE);
    expect(failureFor(what, 'r/x', [{ endpoint: 'a', kind: 'error', error: new BerthError(Code.UNAUTHENTICATED, 'token server said no') }]).message).toMatch(/token server said no/);
  });
});
