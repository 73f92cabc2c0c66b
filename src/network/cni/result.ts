/**
 * Plugin results (pure): 0.3.x/0.4.0 (ips carry "version") and 1.x (no "version") read into
 * one shape, and the pod's addresses picked the way the CRI wants them.
 */
import { isIP } from 'node:net';
import type { CniDns, CniInterface, CniIpConfig, CniResult, CniRoute } from './types.js';

export class ResultError extends Error {
  override name = 'ResultError';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const optString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const optNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const optStrings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;

function parseCidr(s: unknown, where: string): { ip: string; prefixLength: number; family: 4 | 6 } {
  if (typeof s !== 'string') throw new ResultError(`${where}: address must be a string`);
  const slash = s.lastIndexOf('/');
  const ip = slash < 0 ? s : s.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) throw new ResultError(`${where}: ${JSON.stringify(s)} is not an IP address in CIDR form`);
  const prefixLength = slash < 0 ? (family === 4 ? 32 : 128) : Number(s.slice(slash + 1));
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > (family === 4 ? 32 : 128)) {
    throw new ResultError(`${where}: ${JSON.stringify(s)} has a bad prefix length`);
  }
  return { ip, prefixLength, family: family as 4 | 6 };
}

function parseInterfaces(v: unknown): CniInterface[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ResultError('"interfaces" must be a list');
  return v.map((i, n) => {
    if (!isObject(i) || typeof i.name !== 'string') throw new ResultError(`interfaces[${n}] has no name`);
    return { name: i.name, mac: optString(i.mac), mtu: optNumber(i.mtu), sandbox: optString(i.sandbox) };
  });
}

function parseIps(v: unknown, interfaceCount: number): CniIpConfig[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ResultError('"ips" must be a list');
  return v.map((e, n) => {
    const where = `ips[${n}]`;
    if (!isObject(e)) throw new ResultError(`${where} must be an object`);
    const { ip, prefixLength, family } = parseCidr(e.address, where);
    if (e.version !== undefined && String(e.version) !== String(family)) {
      throw new ResultError(`${where}: version ${String(e.version)} does not match address ${String(e.address)}`);
    }
    const idx = optNumber(e.interface);
    if (idx !== undefined && (idx < 0 || idx >= interfaceCount || !Number.isInteger(idx))) {
      throw new ResultError(`${where}: interface index ${idx} is outside the ${interfaceCount} interfaces`);
    }
    return { address: `${ip}/${prefixLength}`, ip, prefixLength, family, gateway: optString(e.gateway), interface: idx };
  });
}

function parseRoutes(v: unknown): CniRoute[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ResultError('"routes" must be a list');
  return v.map((r, n) => {
    if (!isObject(r) || typeof r.dst !== 'string') throw new ResultError(`routes[${n}] has no "dst"`);
    const route: CniRoute = { dst: r.dst };
    const gw = optString(r.gw);
    if (gw) route.gw = gw;
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) {
      const x = optNumber(r[k]);
      if (x !== undefined) route[k] = x;
    }
    return route;
  });
}

function parseDns(v: unknown): CniDns {
  if (!isObject(v)) return {};
  const dns: CniDns = {};
  const ns = optStrings(v.nameservers);
  if (ns?.length) dns.nameservers = ns;
  const domain = optString(v.domain);
  if (domain) dns.domain = domain;
  const search = optStrings(v.search);
  if (search?.length) dns.search = search;
  const options = optStrings(v.options);
  if (options?.length) dns.options = options;
  return dns;
}

/** Read a result object (already JSON-decoded). `fallbackVersion` is the config's, for results that omit it. */
export function parseResult(raw: unknown, fallbackVersion: string): CniResult {
  if (!isObject(raw)) throw new ResultError('the result is not a JSON object');
  const cniVersion = typeof raw.cniVersion === 'string' && raw.cniVersion ? raw.cniVersion : fallbackVersion;
  if (raw.ip4 !== undefined || raw.ip6 !== undefined) {
    throw new ResultError(`result version ${cniVersion} (ip4/ip6 form) is older than 0.3.0 and not supported`);
  }
  const interfaces = parseInterfaces(raw.interfaces);
  return {
    cniVersion,
    interfaces,
    ips: parseIps(raw.ips, interfaces.length),
    routes: parseRoutes(raw.routes),
    dns: parseDns(raw.dns),
    raw,
  };
}

/**
 * The pod's addresses as the CRI reports them (PodSandboxNetworkStatus ip + additional_ips):
 * those on the sandbox interface `ifName` (an address without an interface index counts), IPv4 before IPv6, each family in the plugin's order, without duplicates.
 */
export function podIps(result: CniResult, ifName: string): string[] {
  const onIf = result.ips.filter((c) => {
    if (c.interface === undefined) return true;
    const i = result.interfaces[c.interface];
    return i !== undefined && i.name === ifName && i.sandbox !== undefined;
  });
  const ordered = [...onIf.filter((c) => c.family === 4), ...onIf.filter((c) => c.family === 6)];
  return [...new Set(ordered.map((c) => c.ip))];
}
