/**
 * Shared set-up for shim integration tests: a temp dir holding bundles, an events socket, our
 * -address, and private runc/crun state roots; cleanup that kills whatever a failed test left
 * (shims, containers, mounts, sockets) before removing the dir.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EventsServer } from '../../../src/runtimes/shim/events-server.js';
import type { ShimEvent } from '../../../src/runtimes/shim/events.js';
import { ShimManager, type StartShimOptions } from '../../../src/runtimes/shim/manager.js';
import { ProcessIO, type ProcessIOOptions } from '../../../src/runtimes/shim/process-io.js';
import type { Shim } from '../../../src/runtimes/shim/shim.js';
import { socketPathOf } from '../../../src/runtimes/shim/ttrpc/method.js';
import { createBundle, type BundleOptions, type TestBundle } from '../../helpers/bundle.js';

const execFileP = promisify(execFile);
export const RUNC_SHIM = 'containerd-shim-runc-v2';

export class ShimHarness {
  readonly received: ShimEvent[] = [];
  readonly shims = new Set<Shim>();
  readonly shimPids = new Set<number>();
  readonly addresses = new Set<string>();
  private readonly ios: ProcessIO[] = [];
  private waiters: { pred: (e: ShimEvent) => boolean; resolve: (e: ShimEvent) => void }[] = [];

  private constructor(
    readonly dir: string,
    readonly events: EventsServer,
    readonly mgr: ShimManager,
  ) {
    events.on('event', (e) => {
      this.received.push(e);
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
    });
  }

  static async create(): Promise<ShimHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-shim-'));
    const events = new EventsServer();
    await events.listen(join(dir, 'events.sock'));
    const mgr = new ShimManager({ address: join(dir, 'berth.sock'), eventsAddress: join(dir, 'events.sock') });
    return new ShimHarness(dir, events, mgr);
  }

  get runcRoot(): string {
    return join(this.dir, 'runc-state');
  }

  get crunRoot(): string {
    return join(this.dir, 'crun-state');
  }

  bundle(id: string, o: BundleOptions): Promise<TestBundle> {
    return createBundle(this.dir, id, o);
  }

  async io(name: string, o: Omit<ProcessIOOptions, 'dir' | 'name'> = {}): Promise<ProcessIO> {
    const io = await ProcessIO.create({ dir: this.dir, name, ...o });
    this.ios.push(io);
    return io;
  }

  track(shim: Shim): Shim {
    this.shims.add(shim);
    this.addresses.add(shim.info.address);
    if (shim.info.shimPid) this.shimPids.add(shim.info.shimPid);
    return shim;
  }

  async start(o: Omit<StartShimOptions, 'binary'> & { binary?: string }): Promise<Shim> {
    return this.track(await this.mgr.start({ binary: RUNC_SHIM, ...o }));
  }

  /** The first received event matching `pred` (already received or arriving within timeoutMs). */
  waitForEvent(pred: (e: ShimEvent) => boolean, timeoutMs = 10_000): Promise<ShimEvent> {
    const found = this.received.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching shim event within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  async cleanup(): Promise<void> {
    for (const io of this.ios) await io.close().catch(() => {});
    for (const s of this.shims) s.close();
    for (const pid of this.shimPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    await forceDeleteContainers('runc', this.runcRoot);
    await forceDeleteContainers('crun', this.crunRoot);
    await unmountUnder(this.dir);
    for (const pid of this.shimPids) await waitGone(pid, 3_000);
    for (const a of this.addresses) await rm(socketPathOf(a), { force: true });
    await this.events.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** True if the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !isAlive(pid);
}

/** Read from a stream until `text` has appeared; resolves with everything read so far. */
export function readUntil(stream: NodeJS.ReadableStream, text: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let acc = '';
    const timer = setTimeout(() => done(new Error(`did not see ${JSON.stringify(text)} within ${timeoutMs} ms (got ${JSON.stringify(acc)})`)), timeoutMs);
    const onData = (b: Buffer | string) => {
      acc += b.toString();
      if (acc.includes(text)) done();
    };
    const done = (err?: Error) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.pause();
      if (err) reject(err);
      else resolve(acc);
    };
    stream.on('data', onData);
  });
}

/** The cgroup dir of `pid` for a v1 controller, or the unified dir on cgroup v2. */
export async function cgroupDirOf(pid: number, controller: string): Promise<string> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).trim().split('\n');
  for (const line of lines) {
    const [, ctrls, path] = line.split(':');
    if (ctrls!.split(',').includes(controller)) return join('/sys/fs/cgroup', controller, path!);
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified) return join('/sys/fs/cgroup', unified.slice(3));
  throw new Error(`no ${controller} cgroup for pid ${pid}`);
}

/** Mount points at or under `dir`, from this process's mountinfo. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')));
}

async function unmountUnder(dir: string): Promise<void> {
  for (const m of (await mountsUnder(dir)).reverse()) await execFileP('umount', ['-l', m]).catch(() => {});
}

async function forceDeleteContainers(runtime: string, root: string): Promise<void> {
  const exists = await stat(root).then(() => true, () => false);
  if (!exists) return;
  for (const id of await readdir(root)) {
    await execFileP(runtime, ['--root', root, 'delete', '--force', id]).catch(() => {});
  }
}
