/**
 * Which URLs to try for a registry host, in order (containerd hosts.toml semantics):
 *  1. the mirrors configured for the host (or for "*"), each `scheme://host[:port][/path]`; the
 *     API root is `<path>/v2` unless the path already ends in /v2;
 *  2. the host itself: https://<host>/v2 — for docker.io that is registry-1.docker.io — and
 *     when the host is listed in `insecure`, or is a loopback address (localhost, 127.0.0.0/8,
 *     ::1: a registry on this node, which containerd's CRI plugin and Docker also reach over
 *     plain http without configuration), https without certificate verification first, then
 *     plain http.
 * Pure; the caller falls back to the next endpoint on connection errors, 5xx and 404s.
 */
import { isIP } from 'node:net';
import { posix } from 'node:path';
import { invalidArgument } from '../../util/errors.js';
import { DOCKER_HUB } from '../reference.js';
import type { RegistryConfig } from './config.js';

export interface Endpoint {
  /** API root without trailing slash, e.g. "http://127.0.0.1:5000/v2". */
  base: string;
  /** host[:port] of the endpoint (what credentials and tokens are keyed by). */
  host: string;
  scheme: 'http' | 'https';
  skipTlsVerify: boolean;
  /** A configured mirror (vs. the registry host itself). */
  mirror: boolean;
}

export const DOCKER_HUB_UPSTREAM = 'registry-1.docker.io';

function apiPath(pathname: string): string {
  const clean = posix.normalize(pathname || '/').replace(/\/+$/, '');
  if (clean === '' || clean === '/' || clean === '.') return '/v2';
  return clean.endsWith('/v2') ? clean : `${clean}/v2`;
}

export function parseEndpoint(raw: string, insecure: readonly string[], mirror: boolean): Endpoint {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalidArgument(`registry mirror endpoint ${JSON.stringify(raw)} is not a URL (expected http(s)://host[:port][/path])`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw invalidArgument(`registry mirror endpoint ${JSON.stringify(raw)} must use http:// or https://`);
  }
  const scheme = u.protocol === 'http:' ? 'http' : 'https';
  return {
    base: `${scheme}://${u.host}${apiPath(u.pathname)}`,
    host: u.host,
    scheme,
    skipTlsVerify: scheme === 'https' && insecure.includes(u.host),
    mirror,
  };
}

/** Whether a registry host (`host[:port]`, `[v6]:port`) is this node's loopback. */
export function isLoopbackHost(hostPort: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  const host = (bracketed ? bracketed[1]! : hostPort.replace(/:\d+$/, '')).toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  return isIP(host) === 6 && new URL(`http://[${host}]/`).hostname === '[::1]';
}

export function registryEndpoints(domain: string, cfg: Pick<RegistryConfig, 'mirrors' | 'insecure'>): Endpoint[] {
  const out: Endpoint[] = [];
  const add = (e: Endpoint) => {
    if (!out.some((o) => o.base === e.base)) out.push(e);
  };
  for (const m of cfg.mirrors[domain] ?? cfg.mirrors['*'] ?? []) add(parseEndpoint(m, cfg.insecure, true));
  const host = domain === DOCKER_HUB ? DOCKER_HUB_UPSTREAM : domain;
  if (cfg.insecure.includes(domain) || isLoopbackHost(domain)) {
    add({ base: `https://${host}/v2`, host, scheme: 'https', skipTlsVerify: true, mirror: false });
    add({ base: `http://${host}/v2`, host, scheme: 'http', skipTlsVerify: false, mirror: false });
  } else {
    add({ base: `https://${host}/v2`, host, scheme: 'https', skipTlsVerify: false, mirror: false });
  }
  return out;
}
