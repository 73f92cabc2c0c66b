/**
 * Facts about the node the CLI runs on (the same host as berthd: it talks over a unix
 * socket): memory and CPU from /proc, its IP and name, and berthd's own settings from the
 * admin API. Parsers are pure; readers are thin.
 */
import { readFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import type { CliContext } from './context.js';

export interface Meminfo {
  totalBytes: number;
  availableBytes: number;
}

/** MemTotal and MemAvailable from /proc/meminfo text. */
export function parseMeminfo(text: string): Meminfo {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') };
}

export interface CpuTimes {
  /** Jiffies spent busy and in total, summed over CPUs. */
  busy: number;
  total: number;
  cpus: number;
}

/** The aggregate "cpu" line of /proc/stat (idle and iowait count as not busy). */
export function parseProcStat(text: string): CpuTimes {
  const lines = text.split('\n');
  const f = (lines.find((l) => l.startsWith('cpu ')) ?? 'cpu').trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total, cpus: lines.filter((l) => /^cpu\d+\s/.test(l)).length };
}

/** Busy fraction (0..1 of all CPUs) between two samples. */
export function cpuBusyBetween(a: CpuTimes, b: CpuTimes): number | undefined {
  const dt = b.total - a.total;
  return dt > 0 ? (b.busy - a.busy) / dt : undefined;
}

export async function readMeminfo(): Promise<Meminfo> {
  return parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
}

export async function readCpuTimes(): Promise<CpuTimes> {
  return parseProcStat(await readFile('/proc/stat', 'utf8'));
}

/** The node's first non-loopback IPv4 address ("" when it has none). */
export function hostIp(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '';
}

export function nodeName(): string {
  return hostname();
}

export async function readResolvConf(): Promise<string> {
  return readFile('/etc/resolv.conf', 'utf8').catch(() => '');
}

export interface DaemonSettings {
  root: string;
  sandboxImage: string;
  cgroupDriver: 'cgroupfs' | 'systemd';
}

/** berthd's root, sandbox image and cgroup driver (admin /v1/info). */
export async function daemonSettings(ctx: CliContext): Promise<DaemonSettings> {
  const info = await ctx.admin.get<{ config: DaemonSettings }>('/v1/info');
  return { root: info.config.root, sandboxImage: info.config.sandboxImage, cgroupDriver: info.config.cgroupDriver };
}
