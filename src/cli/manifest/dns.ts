/**
 * The pod's DNS settings from dnsPolicy and dnsConfig, as the kubelet merges them (pure).
 * berth has no cluster DNS, so ClusterFirst behaves like Default (the host's resolv.conf),
 * as a kubelet without --cluster-dns does.
 */
import type { PodSpec } from './schema.js';

export interface DnsSettings {
  servers: string[];
  searches: string[];
  options: string[];
}

export const MAX_NAMESERVERS = 3;
export const MAX_SEARCHES = 32;

/** nameserver / search / domain / options lines of a resolv.conf. */
export function parseResolvConf(text: string): DnsSettings {
  const out: DnsSettings = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

const uniq = (xs: string[]) => [...new Set(xs)];

function mergeOptions(base: string[], extra: { name: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0]!, o);
  for (const o of extra) byName.set(o.name, o.value !== undefined ? `${o.name}:${o.value}` : o.name);
  return [...byName.values()];
}

/**
 * The CRI DNSConfig for the pod, or undefined to let berthd copy the host's resolv.conf.
 * `hostResolvConf` is the node's /etc/resolv.conf text; `warnings` receives truncations.
 */
export function podDns(spec: PodSpec, hostResolvConf: string, warnings: string[]): DnsSettings | undefined {
  const cfg = spec.dnsConfig;
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  if (policy !== 'None' && !cfg) return undefined;
  const base = policy === 'None' ? { servers: [], searches: [], options: [] } : parseResolvConf(hostResolvConf);
  const out: DnsSettings = {
    servers: uniq([...base.servers, ...(cfg?.nameservers ?? [])]),
    searches: uniq([...base.searches, ...(cfg?.searches ?? [])]),
    options: mergeOptions(base.options, cfg?.options ?? []),
  };
  if (out.servers.length > MAX_NAMESERVERS) {
    warnings.push(`spec.dnsConfig: ${out.servers.length} nameservers after merging with the host's; only the first ${MAX_NAMESERVERS} are used (${out.servers.slice(MAX_NAMESERVERS).join(', ')} dropped)`);
    out.servers = out.servers.slice(0, MAX_NAMESERVERS);
  }
  if (out.searches.length > MAX_SEARCHES) {
    warnings.push(`spec.dnsConfig: more than ${MAX_SEARCHES} search domains; the rest are dropped`);
    out.searches = out.searches.slice(0, MAX_SEARCHES);
  }
  return out;
}
