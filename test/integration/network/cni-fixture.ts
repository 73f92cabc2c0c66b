/**
 * A throw-away CNI world for one test file: temp conf/cache/netns dirs, a bridge name and a
 * 10.250.x.0/24 subnet no one else uses, pods with real network namespaces, and a cleanup
 * that removes everything (namespaces, bridge, host-local leases, NAT rules) even after a
 * failed test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createNetns, removeNetns } from '../../../src/network/netns.js';

export const PLUGIN_DIR = '/usr/lib/cni';

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function subnetInUse(third: number): boolean {
  return sh('ip', ['-o', '-4', 'addr', 'show']).includes(` 10.250.${third}.`);
}

export interface Pod {
  podId: string;
  netnsPath: string;
}

export class CniWorld {
  readonly tag = randomBytes(3).toString('hex');
  readonly bridge = `bt${this.tag}`;
  readonly network = `berth-test-${this.tag}`;
  readonly third: number;
  readonly subnet: string;
  root = '';
  private netnsPaths: string[] = [];

  constructor() {
    let third = 0;
    for (let i = 0; i < 50; i++) {
      third = 1 + Math.floor(Math.random() * 250);
      if (!subnetInUse(third)) break;
    }
    this.third = third;
    this.subnet = `10.250.${third}.0/24`;
  }

  get confDir(): string {
    return join(this.root, 'net.d');
  }
  get cacheDir(): string {
    return join(this.root, 'cni-cache');
  }
  get leaseDir(): string {
    return `/var/lib/cni/networks/${this.network}`;
  }

  async init(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'berth-cni-'));
  }

  /** The default-config shape (bridge + portmap) on this world's bridge and subnet. */
  conflist(extra: Record<string, unknown>[] = []): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: this.network,
      plugins: [
        {
          type: 'bridge',
          bridge: this.bridge,
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: this.subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
        ...extra,
      ],
    };
  }

  async writeConf(dir: string, file: string, doc: unknown): Promise<string> {
    const p = join(dir, file);
    await writeFile(p, JSON.stringify(doc, null, 2));
    return p;
  }

  async newPod(): Promise<Pod> {
    const podId = randomBytes(32).toString('hex');
    const netnsPath = join(this.root, 'netns', podId);
    this.netnsPaths.push(netnsPath);
    await createNetns(netnsPath);
    return { podId, netnsPath };
  }

  /** Host-local lease files (named by IP) left in this network's data dir. */
  leases(): string[] {
    if (!existsSync(this.leaseDir)) return [];
    return readdirSync(this.leaseDir).filter((n) => isIP(n) !== 0);
  }

  /** Host-side links enslaved to this world's bridge. */
  bridgePorts(): string[] {
    const r = spawnSync('ip', ['-o', 'link', 'show', 'master', this.bridge], { encoding: 'utf8' });
    if (r.status !== 0) return [];
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!);
  }

  async cleanup(): Promise<void> {
    for (const p of this.netnsPaths) await removeNetns(p).catch(() => {});
    spawnSync('ip', ['link', 'del', this.bridge]);
    scrubNatRules([this.network, this.subnet.replace('.0/24', '.')]);
    await rm(this.leaseDir, { recursive: true, force: true });
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }
}

/** iptables-save of nat + filter without comments and packet counters. */
export function iptablesSnapshot(): string[] {
  const out: string[] = [];
  for (const table of ['nat', 'filter']) {
    const text = sh('iptables-save', ['-t', table]);
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      out.push(line.replace(/\[\d+:\d+\]/g, '[0:0]'));
    }
  }
  return out;
}

/** Chains defined by rules that mention one of `needles`, plus the needles: what "ours" means. */
export function relatedTokens(lines: string[], needles: string[]): string[] {
  const tokens = new Set(needles);
  for (const l of lines) {
    if (!needles.some((n) => l.includes(n))) continue;
    for (const m of l.matchAll(/CNI-(?!HOSTPORT-)[A-Za-z0-9-]+/g)) tokens.add(m[0]);
  }
  return [...tokens];
}

export function linesMentioning(lines: string[], tokens: string[]): string[] {
  return lines.filter((l) => tokens.some((t) => l.includes(t)));
}

/** Best-effort removal of NAT rules and chains left by a failed test. */
function scrubNatRules(needles: string[]): void {
  let lines: string[];
  try {
    lines = sh('iptables-save', ['-t', 'nat']).split('\n');
  } catch {
    return;
  }
  const tokens = relatedTokens(lines, needles);
  for (const l of lines) {
    if (!l.startsWith('-A ') || !tokens.some((t) => l.includes(t))) continue;
    const args = (l.match(/"[^"\\]*(?:\\.[^"\\]*)*"|\S+/g) ?? []).map((a) => (a.startsWith('"') ? JSON.parse(a) as string : a));
    args[0] = '-D';
    spawnSync('iptables', ['-t', 'nat', ...args]);
  }
  for (const t of tokens) {
    if (!t.startsWith('CNI-')) continue;
    spawnSync('iptables', ['-t', 'nat', '-F', t]);
    spawnSync('iptables', ['-t', 'nat', '-X', t]);
  }
}

/** Run in the pod's namespace. */
export function inNetns(netnsPath: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync('nsenter', [`--net=${netnsPath}`, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}
