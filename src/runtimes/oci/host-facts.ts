import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isNotFoundErrno } from '../../util/errors.js';
import { KNOWN_CAPABILITIES } from './defaults.js';
import type { HostFacts } from './inputs.js';

/** Capability names of a /proc/<pid>/status mask ("000001fffeffffff"); unknown bits become CAP_<n>. */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex.trim()}`);
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) out.push(KNOWN_CAPABILITIES[bit] ?? `CAP_${bit}`);
  }
  return out;
}

/** The CapEff line of a /proc/<pid>/status text. */
export function effectiveCapabilities(status: string): string[] {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return m ? capabilitiesFromMask(m[1]!) : [];
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isNotFoundErrno(err)) return fallback;
    throw err;
  }
}

/** The cgroup facts come from cgroups/ (which alone reads /sys/fs/cgroup). */
export type CgroupFacts = Pick<HostFacts, 'cgroupV2' | 'swapAccounting' | 'hugetlb'>;

/**
 * Detect berthd's own facts: oom_score_adj and effective capabilities from /proc/self,
 * AppArmor from /sys/module/apparmor, hostname and architecture from Node. Whether the
 * runtime supports `rro` is the runtime handler's to say (runc >= 1.2), default false.
 */
export async function detectHostFacts(cgroup: CgroupFacts, opts: { recursiveReadOnlyMounts?: boolean } = {}): Promise<HostFacts> {
  const [oom, status, apparmor] = await Promise.all([
    readOr('/proc/self/oom_score_adj', '0'),
    readFile('/proc/self/status', 'utf8'),
    readOr('/sys/module/apparmor/parameters/enabled', 'N'),
  ]);
  return {
    apparmorEnabled: apparmor.trim().toUpperCase().startsWith('Y'),
    recursiveReadOnlyMounts: opts.recursiveReadOnlyMounts ?? false,
    oomScoreAdj: Number.parseInt(oom.trim(), 10) || 0,
    capabilities: effectiveCapabilities(status).filter((c) => KNOWN_CAPABILITIES.includes(c)),
    ...cgroup,
    hostname: hostname(),
    arch: process.arch,
  };
}
