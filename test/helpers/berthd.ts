/**
 * Start a real berthd (the built dist/ entry point) for a test, in its own temp root,
 * state dir and socket, with a YAML config. `kill9()` simulates a crash; `restart()`
 * starts a new process over the same root/state.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { criClients, type CriClients } from './cri-client.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const BERTHD = join(REPO, 'dist/src/daemon/main.js');

export interface Berthd {
  /** The top-level cgroup parent of this daemon's BE pods (its own: config qos.beCgroupParent). */
  beParent: string;
  socket: string;
  /** The admin API socket (beside the CRI socket). */
  adminSocket: string;
  root: string;
  state: string;
  dir: string;
  configPath: string;
  proc: ChildProcess;
  logs: string[];
  clients(opts?: { authority?: string }): CriClients;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

async function waitForSocket(path: string, proc: ChildProcess, logs: string[], ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`berthd exited with ${proc.exitCode}:\n${logs.join('')}`);
    // Connectable, not merely present: after a kill -9 the old socket file is still there.
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(path);
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`berthd did not create ${path} within ${ms} ms:\n${logs.join('')}`);
}

export async function startBerthd(config: Record<string, unknown> = {}): Promise<Berthd> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-test-'));
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const socket = join(dir, 'berth.sock');
  const configPath = join(dir, 'config.yaml');
  // A free metrics port and a BE parent cgroup of its own: test daemons run side by side, and
  // one daemon's policy must not flip the knobs of another's top-level BE parent.
  const qos = { beCgroupParent: `/berth-besteffort-test-${basename(dir).replace(/^berth-test-/, '')}`, ...((config.qos as Record<string, unknown> | undefined) ?? {}) };
  const beParent = String(qos.beCgroupParent);
  await writeFile(configPath, stringify({ listen: `unix://${socket}`, root, state, logLevel: 'debug', metrics: { address: '127.0.0.1:0' }, ...config, qos }));
  const logs: string[] = [];
  const open: CriClients[] = [];
  const launch = async () => {
    const proc = spawn(process.execPath, [BERTHD, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    await waitForSocket(socket, proc, logs);
    return proc;
  };
  const d: Berthd = {
    beParent,
    socket,
    adminSocket: socket.replace(/\.sock$/, '-admin.sock'),
    root,
    state,
    dir,
    configPath,
    logs,
    proc: await launch(),
    clients(opts) {
      const c = criClients(socket, opts);
      open.push(c);
      return c;
    },
    async stop() {
      if (d.proc.exitCode !== null || d.proc.signalCode !== null) return d.proc.exitCode;
      const exited = new Promise<number | null>((r) => d.proc.once('exit', (code) => r(code)));
      d.proc.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (d.proc.exitCode !== null || d.proc.signalCode !== null) return;
      const exited = new Promise((r) => d.proc.once('exit', r));
      d.proc.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await d.stop();
      d.proc = await launch();
    },
    async cleanup() {
      for (const c of open.splice(0)) c.close();
      await d.stop();
      // A failed test may leave pods behind: unmount what berthd mounted before removing its dirs.
      const mounts = (await readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .map((l) => l.split(' ')[4] ?? '')
        .filter((m) => m.startsWith(dir + '/'))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) spawnSync('umount', ['-l', m]);
      await rm(dir, { recursive: true, force: true });
      if (beParent.startsWith('/')) for (const h of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) await rmdir(join('/sys/fs/cgroup', h, beParent)).catch(() => {});
    },
  };
  return d;
}
