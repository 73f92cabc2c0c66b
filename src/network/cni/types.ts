/**
 * Shapes shared by the CNI modules: network configuration lists as loaded from disk, the
 * runtime's capability arguments (CNI conventions.md), and plugin results in a form that is
 * the same whatever cniVersion the plugin spoke.
 */

/** One plugin entry of a list: `type` plus whatever the plugin itself understands. */
export type PluginConf = Record<string, unknown> & { type: string; capabilities?: Record<string, boolean> };

/** A network configuration list, validated. `bytes` is the file's JSON as loaded. */
export interface NetworkConfigList {
  name: string;
  cniVersion: string;
  /** The list-level `disableCheck` flag (0.4.0+): CHECK is skipped for the whole list. */
  disableCheck: boolean;
  plugins: PluginConf[];
  /** Where it came from (file path, or a description such as "built-in loopback"). */
  source: string;
}

/** A host port → pod port mapping (CNI `portMappings` capability). */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** Host address to bind; empty or absent = all host addresses. */
  hostIP?: string;
}

/** One address range (CNI `ipRanges` capability; host-local understands it). */
export interface IpRange {
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

/** Traffic shaping (CNI `bandwidth` capability): rates in bits per second, bursts in bits. */
export interface Bandwidth {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** Pod DNS settings (CNI `dns` capability). */
export interface DnsCapability {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

/**
 * Capability arguments the runtime offers; each plugin gets in `runtimeConfig` only the ones
 * it declares in its `capabilities` map. `extra` carries any other convention key as is.
 */
export interface CapabilityArgs {
  portMappings?: PortMapping[];
  ipRanges?: IpRange[][];
  bandwidth?: Bandwidth;
  dns?: DnsCapability;
  extra?: Record<string, unknown>;
}

/** Identity of a pod as the plugins see it (CNI_CONTAINERID, CNI_NETNS, CNI_ARGS). */
export interface PodIdentity {
  podId: string;
  podName?: string;
  podNamespace?: string;
  podUid?: string;
}

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** Set for interfaces inside the pod's network namespace. */
  sandbox?: string;
}

export interface CniIpConfig {
  /** CIDR, e.g. 10.88.0.5/16. */
  address: string;
  /** The address alone, e.g. 10.88.0.5. */
  ip: string;
  prefixLength: number;
  family: 4 | 6;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A plugin result, normalised (0.3.x, 0.4.0 and 1.x read alike). `raw` is what the plugin printed. */
export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIpConfig[];
  routes: CniRoute[];
  dns: CniDns;
  raw: Record<string, unknown>;
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';
