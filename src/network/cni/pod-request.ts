/**
 * Requests the runtime makes for a pod, their validation, and the pod network it gets back
 * (pure).
 */
import { invalidArgument } from '../../util/errors.js';
import { requireCleanAbsolute } from '../../util/paths.js';
import { checkContainerId } from './invocation.js';
import { parseResult, podIps } from './result.js';
import type {
  Bandwidth,
  CapabilityArgs,
  CniDns,
  CniInterface,
  CniRoute,
  DnsCapability,
  IpRange,
  PodIdentity,
  PortMapping,
} from './types.js';
import type { PluginTiming } from './list-ops.js';

export interface PortMappingInput {
  hostPort: number;
  containerPort: number;
  /** tcp / udp / sctp, any case. Default tcp. */
  protocol?: string;
  hostIP?: string;
}

export interface SetupRequest extends PodIdentity {
  netnsPath: string;
  portMappings?: PortMappingInput[];
  bandwidth?: Bandwidth;
  dns?: DnsCapability;
  ipRanges?: IpRange[][];
  /** Other capability arguments by convention name (e.g. mac, ips, cgroupPath). */
  extraCapabilities?: Record<string, unknown>;
}

export interface TeardownRequest {
  podId: string;
  /** The namespace, if it still exists; otherwise the cached path is tried, then none. */
  netnsPath?: string;
  /** Forget the cache even when a DEL failed (for RemovePodSandbox after retries). */
  force?: boolean;
}

export interface CheckRequest {
  podId: string;
  netnsPath: string;
}

/** The pod's network as the CRI reports it. */
export interface PodNetwork {
  network: string;
  /** Primary first (IPv4 before IPv6): ips[0] → PodSandboxNetworkStatus.ip, the rest → additional_ips. */
  ips: string[];
  interfaces: CniInterface[];
  routes: CniRoute[];
  dns: CniDns;
  raw: Record<string, unknown>;
  /** Per plugin, this call only (empty when read from the cache). */
  timings: PluginTiming[];
}

export interface TeardownResult {
  /** Networks whose DEL ran. Empty when there was nothing to tear down. */
  networks: string[];
  /** DEL failures ignored because of `force`. */
  ignoredErrors: string[];
  /** The pod's namespace was gone and a stand-in served DEL. */
  usedStandIn: boolean;
  timings: PluginTiming[];
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function checkPort(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalidArgument(`${what} ${n} is not a port number (1–65535)`);
}

/** CRI port mappings → the portMappings capability. Mappings without a host port publish nothing and are dropped. */
export function toPortMappings(input: PortMappingInput[] | undefined): PortMapping[] {
  const out: PortMapping[] = [];
  for (const m of input ?? []) {
    if (!m.hostPort) continue;
    checkPort(m.hostPort, 'host port');
    checkPort(m.containerPort, 'container port');
    const protocol = (m.protocol ?? 'tcp').toLowerCase();
    if (!PROTOCOLS.has(protocol)) throw invalidArgument(`port mapping protocol ${JSON.stringify(m.protocol)} is not tcp, udp or sctp`);
    const pm: PortMapping = { hostPort: m.hostPort, containerPort: m.containerPort, protocol: protocol as PortMapping['protocol'] };
    if (m.hostIP) pm.hostIP = m.hostIP;
    out.push(pm);
  }
  return out;
}

export function capabilityArgsOf(req: SetupRequest): CapabilityArgs {
  const caps: CapabilityArgs = {};
  const pm = toPortMappings(req.portMappings);
  if (pm.length) caps.portMappings = pm;
  if (req.bandwidth) caps.bandwidth = req.bandwidth;
  if (req.dns) caps.dns = req.dns;
  if (req.ipRanges?.length) caps.ipRanges = req.ipRanges;
  if (req.extraCapabilities) caps.extra = req.extraCapabilities;
  return caps;
}

export function checkSetupRequest(req: SetupRequest): void {
  checkContainerId(req.podId);
  requireCleanAbsolute(req.netnsPath, 'network namespace path');
}

export function podNetworkOf(network: string, raw: Record<string, unknown>, version: string, ifName: string, timings: PluginTiming[]): PodNetwork {
  const r = parseResult(raw, version);
  return { network, ips: podIps(r, ifName), interfaces: r.interfaces, routes: r.routes, dns: r.dns, raw, timings };
}
