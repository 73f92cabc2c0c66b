/**
 * Static facts about the node (CPU model, cores, memory, OS, kernel) from `systeminformation`.
 * Slow (it runs lscpu, reads DMI …: ~0.5 s here, ~25 short child processes), so it runs once
 * in the background at start and then on its own long interval, never on the hot path.
 */
import * as si from 'systeminformation';

export interface NodeInfo {
  cpuVendor: string;
  cpuModel: string;
  /** Logical CPUs. */
  cores: number;
  physicalCores: number;
  memoryBytes: number;
  /** e.g. "Debian GNU/Linux 12". */
  os: string;
  kernel: string;
  arch: string;
  hostname: string;
  /** When it was read, ms since the epoch. */
  readAtMs: number;
}

export async function readNodeInfo(): Promise<NodeInfo> {
  const [cpu, mem, os] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
  return {
    cpuVendor: cpu.manufacturer ?? '',
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' ').trim(),
    cores: cpu.cores,
    physicalCores: cpu.physicalCores,
    memoryBytes: mem.total,
    os: [os.distro, os.release].filter(Boolean).join(' ').trim(),
    kernel: os.kernel,
    arch: os.arch,
    hostname: os.hostname,
    readAtMs: Date.now(),
  };
}
