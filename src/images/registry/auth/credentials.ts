/**
 * Which credentials to present to a registry endpoint.
 *  - From the request (CRI AuthConfig): used for every endpoint of the pull (mirrors too, as
 *    containerd does) unless its serverAddress names another host.
 *  - Else from config `registry.auths[endpoint host]`; for the upstream endpoint also
 *    `auths[<image's registry host>]` (so "docker.io" works for registry-1.docker.io).
 * `auth` is base64("user:password"); identity tokens are OAuth2 refresh tokens; a registry
 * token is sent as is (Bearer).
 */
import { createHash } from 'node:crypto';
import { invalidArgument } from '../../../util/errors.js';
import { DOCKER_HUB } from '../../reference.js';
import type { RegistryAuthEntry } from '../config.js';
import { DOCKER_HUB_UPSTREAM, type Endpoint } from '../endpoints.js';

/** CRI AuthConfig, in our own words. */
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export type Credentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'identity'; username?: string; refreshToken: string }
  | { kind: 'bearer'; token: string };

/** Strip scheme and path: "https://index.docker.io/v1/" → "index.docker.io". */
export function normalizeServer(s: string): string {
  return s.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

const hubAliases = new Set([DOCKER_HUB, DOCKER_HUB_UPSTREAM, 'index.docker.io']);
function sameServer(a: string, b: string): boolean {
  const x = normalizeServer(a);
  const y = normalizeServer(b);
  return x === y || (hubAliases.has(x) && hubAliases.has(y));
}

export function decodeCredentials(a: AuthConfig | RegistryAuthEntry | undefined, where: string): Credentials | undefined {
  if (!a) return undefined;
  const registryToken = 'registryToken' in a ? a.registryToken : undefined;
  if (registryToken) return { kind: 'bearer', token: registryToken };
  const identity = 'identityToken' in a ? a.identityToken : 'identitytoken' in a ? a.identitytoken : undefined;
  let { username, password } = a;
  if (a.auth) {
    const decoded = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i < 0) throw invalidArgument(`${where}: "auth" must be base64 of "user:password"`);
    username = decoded.slice(0, i);
    password = decoded.slice(i + 1);
  }
  if (identity) return { kind: 'identity', refreshToken: identity, ...(username ? { username } : {}) };
  if (username || password) return { kind: 'basic', username: username ?? '', password: password ?? '' };
  return undefined;
}

export function credentialsFor(
  endpoint: Endpoint,
  domain: string,
  request: AuthConfig | undefined,
  auths: Record<string, RegistryAuthEntry>,
): Credentials | undefined {
  if (request && (!request.serverAddress || sameServer(request.serverAddress, endpoint.host) || sameServer(request.serverAddress, domain))) {
    const c = decodeCredentials(request, 'pull request auth');
    if (c) return c;
  }
  const keys = Object.keys(auths);
  const key = keys.find((k) => sameServer(k, endpoint.host)) ?? (!endpoint.mirror ? keys.find((k) => sameServer(k, domain)) : undefined);
  return key ? decodeCredentials(auths[key], `registry.auths[${JSON.stringify(key)}]`) : undefined;
}

/** A short stable id of a credential (never the secret itself), for cache keys. */
export function credentialId(c: Credentials | undefined): string {
  if (!c) return 'anonymous';
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 16);
}
