/**
 * One pod on the real containerd-shim-runc-v2 + runc: sandbox and a second container in the same
 * shim, exec, stdio through fifos, pids, pause/resume, update, stats, kill/wait, the events
 * socket, delete and shutdown. Tests run in order and share the pod.
 */
import { readFile, stat } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, BerthError } from '../../../src/util/errors.js';
import type { Shim } from '../../../src/runtimes/shim/shim.js';
import type { ProcessIO } from '../../../src/runtimes/shim/process-io.js';
import { socketPathOf } from '../../../src/runtimes/shim/ttrpc/method.js';
import { cgroupDirOf, isAlive, readUntil, RUNC_SHIM, ShimHarness, waitGone } from './harness.js';

const POD = 'pod-runc-1';
const CTR = 'ctr-runc-2';
const proc = (args: string[]) => ({ args, cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } });

let h: ShimHarness;
let shim: Shim;
let sandboxIo: ProcessIO;
let sandboxPid = 0;

beforeAll(async () => {
  h = await ShimHarness.create();
});

afterAll(async () => {
  await h?.cleanup();
});

const errOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as BerthError);

describe('containerd-shim-runc-v2: one pod', () => {
  it('starts a shim for the pod and learns its pid through Connect', async () => {
    const b = await h.bundle(POD, { args: ['sh', '-c', 'echo sandbox-up; exec sleep 1000'], sandboxId: POD });
    shim = await h.start({ id: POD, bundle: b.dir });
    expect(shim.info.address).toMatch(/^unix:\/\/\/run\/containerd\/s\/[0-9a-f]{64}$/);
    expect(shim.info).toMatchObject({ id: POD, bundle: b.dir, binary: RUNC_SHIM, namespace: 'k8s.io' });
    expect(readFileSync(`/proc/${shim.info.shimPid}/cmdline`, 'utf8')).toContain(RUNC_SHIM);
    expect((await stat(join(b.dir, 'log'))).isFIFO()).toBe(true);
  });

  it('creates and starts the sandbox; its stdout arrives through the fifo', async () => {
    sandboxIo = await h.io(POD);
    const created = await shim.task.create({
      id: POD,
      bundle: join(h.dir, POD),
      ...sandboxIo.stdio,
      runcOptions: { root: h.runcRoot },
    });
    expect(created.pid).toBeGreaterThan(0);
    expect((await shim.task.state(POD)).status).toBe('created');
    const started = await shim.task.start(POD);
    expect(started.pid).toBe(created.pid);
    sandboxPid = created.pid;
    expect(await readUntil(sandboxIo.stdout!, 'sandbox-up\n')).toBe('sandbox-up\n');
    const st = await shim.task.state(POD);
    expect(st).toMatchObject({ id: POD, pid: sandboxPid, status: 'running', exitedAtNs: 0n, stdout: sandboxIo.stdio.stdout });
    await h.waitForEvent((e) => e.kind === 'start' && e.containerId === POD && e.pid === sandboxPid);
    const ev = await h.waitForEvent((e) => e.kind === 'create' && e.containerId === POD);
    expect(ev).toMatchObject({ namespace: 'k8s.io', topic: '/tasks/create', pid: sandboxPid });
  });

  it('lists the pids of the task', async () => {
    const pids = await shim.task.pids(POD);
    expect(pids.map((p) => p.pid)).toContain(sandboxPid);
  });

  it('execs a process: output on both fifos, exit code through Wait, Delete and the events socket', async () => {
    const io = await h.io('exec1');
    await shim.task.exec({ id: POD, execId: 'exec1', ...io.stdio, process: proc(['sh', '-c', 'echo out; echo err >&2; exit 3']) });
    const waited = shim.task.wait(POD, 'exec1');
    const { pid } = await shim.task.start(POD, 'exec1');
    expect(pid).toBeGreaterThan(0);
    expect(await io.collect()).toEqual({ stdout: 'out\n', stderr: 'err\n' });
    expect((await waited).exitStatus).toBe(3);
    const exit = await h.waitForEvent((e) => e.kind === 'exit' && e.id === 'exec1');
    expect(exit).toMatchObject({ containerId: POD, pid, exitStatus: 3, topic: '/tasks/exit' });
    await h.waitForEvent((e) => e.kind === 'exec-added' && e.execId === 'exec1');
    await h.waitForEvent((e) => e.kind === 'exec-started' && e.execId === 'exec1' && e.pid === pid);
    expect((await shim.task.delete(POD, 'exec1')).exitStatus).toBe(3);
  });

  it('feeds stdin to an exec and ends it when we close our side', async () => {
    const io = await h.io('exec-cat', { stdin: true });
    await shim.task.exec({ id: POD, execId: 'exec-cat', ...io.stdio, process: proc(['cat']) });
    await shim.task.start(POD, 'exec-cat');
    await io.closeStdin('ping\n');
    await shim.task.closeIO(POD, 'exec-cat');
    expect((await io.collect()).stdout).toBe('ping\n');
    expect((await shim.task.wait(POD, 'exec-cat')).exitStatus).toBe(0);
    await shim.task.delete(POD, 'exec-cat');
  });

  it('reports exec processes in Pids with their exec id and kills one exec alone', async () => {
    await shim.task.exec({ id: POD, execId: 'exec-sleep', process: proc(['sleep', '300']) });
    const { pid } = await shim.task.start(POD, 'exec-sleep');
    expect(await shim.task.pids(POD)).toContainEqual({ pid, execId: 'exec-sleep' });
    await shim.task.kill(POD, constants.signals.SIGKILL, { execId: 'exec-sleep' });
    expect((await shim.task.wait(POD, 'exec-sleep')).exitStatus).toBe(128 + constants.signals.SIGKILL);
    await shim.task.delete(POD, 'exec-sleep');
    expect((await shim.task.state(POD)).status).toBe('running');
  });

  it('pauses and resumes the task', async () => {
    await shim.task.pause(POD);
    expect((await shim.task.state(POD)).status).toBe('paused');
    await h.waitForEvent((e) => e.kind === 'paused' && e.containerId === POD);
    await shim.task.resume(POD);
    expect((await shim.task.state(POD)).status).toBe('running');
    await h.waitForEvent((e) => e.kind === 'resumed' && e.containerId === POD);
  });

  it('applies OCI LinuxResources through Update', async () => {
    await shim.task.update(POD, { pids: { limit: 77 } });
    const dir = await cgroupDirOf(sandboxPid, 'pids');
    expect((await readFile(join(dir, 'pids.max'), 'utf8')).trim()).toBe('77');
  });

  it('returns cgroup metrics from Stats', async () => {
    const stats = await shim.task.stats(POD);
    expect(['v1', 'v2']).toContain(stats.version);
    if (stats.version === 'v1' || stats.version === 'v2') {
      expect(stats.metrics.pids?.current).toBeGreaterThanOrEqual(1n);
      expect(stats.metrics.pids?.limit).toBe(77n);
    }
    if (stats.version === 'v1') expect(stats.metrics.memory?.usage?.usage).toBeGreaterThan(0n);
  });

  it('maps shim errors onto BerthError codes', async () => {
    const missing = await errOf(shim.task.state('no-such-ctr'));
    expect(missing).toBeInstanceOf(BerthError);
    expect(missing!.code).toBe(Code.NOT_FOUND);
    expect(missing!.message).toContain('containerd.task.v2.Task/State');
    const noExec = await errOf(shim.task.start(POD, 'no-such-exec'));
    expect(noExec!.code).toBe(Code.NOT_FOUND);
    // An exec registered but not started: killing it is a failed precondition, reusing its id exists.
    await shim.task.exec({ id: POD, execId: 'exec-idle', process: proc(['true']) });
    const notStarted = await errOf(shim.task.kill(POD, constants.signals.SIGTERM, { execId: 'exec-idle' }));
    expect(notStarted!.code).toBe(Code.FAILED_PRECONDITION);
    const dupExec = await errOf(shim.task.exec({ id: POD, execId: 'exec-idle', process: proc(['true']) }));
    expect(dupExec!.code).toBe(Code.ALREADY_EXISTS);
    await shim.task.delete(POD, 'exec-idle');
    // A duplicate container id is not checked by the 1.6 shim: runc's own refusal comes back as UNKNOWN.
    const dup = await errOf(shim.task.create({ id: POD, bundle: join(h.dir, POD), runcOptions: { root: h.runcRoot } }));
    expect(dup!.code).toBe(Code.UNKNOWN);
    expect(dup!.message).toContain('already exists');
    expect((await shim.task.state(POD)).status).toBe('running');
  });

  it('runs a second container of the pod in the same shim', async () => {
    const b = await h.bundle(CTR, { args: ['sh', '-c', 'echo second; exit 7'], sandboxId: POD });
    const again = await h.start({ id: CTR, bundle: b.dir });
    expect(again).toBe(shim); // same connection
    // The shim answered `start` for CTR by writing the pod's address into CTR's bundle; no new daemon.
    expect(await readFile(join(b.dir, 'address'), 'utf8')).toBe(shim.info.address);
    expect(shimDaemonsFor(CTR)).toEqual([]);
    const io = await h.io(CTR);
    await shim.task.create({ id: CTR, bundle: b.dir, ...io.stdio, runcOptions: { root: h.runcRoot } });
    const waited = shim.task.wait(CTR);
    await shim.task.start(CTR);
    expect((await io.collect()).stdout).toBe('second\n');
    expect((await waited).exitStatus).toBe(7);
    await h.waitForEvent((e) => e.kind === 'exit' && e.containerId === CTR && e.exitStatus === 7);
    const del = await shim.task.delete(CTR);
    expect(del.exitStatus).toBe(7);
    expect(del.exitedAtNs).toBeGreaterThan(0n);
    await h.waitForEvent((e) => e.kind === 'delete' && e.containerId === CTR);
    expect((await errOf(shim.task.state(CTR)))!.code).toBe(Code.NOT_FOUND);
  });

  it('does not exit on Shutdown while it still serves a task', async () => {
    expect(await shim.shutdown(300)).toBe(false);
    expect(isAlive(shim.info.shimPid)).toBe(true);
    expect((await shim.task.state(POD)).status).toBe('running');
  });

  it('kills the sandbox: Wait and the /tasks/exit event carry the status', async () => {
    const waited = shim.task.wait(POD);
    await shim.task.kill(POD, constants.signals.SIGKILL);
    const w = await waited;
    expect(w.exitStatus).toBe(137);
    expect(w.exitedAtNs).toBeGreaterThan(0n);
    const ev = await h.waitForEvent((e) => e.kind === 'exit' && e.containerId === POD && e.id === POD);
    expect(ev).toMatchObject({ pid: sandboxPid, exitStatus: 137, exitedAtNs: w.exitedAtNs });
    expect((await shim.task.state(POD)).status).toBe('stopped');
    await sandboxIo.done();
  });

  it('deletes the task, then Shutdown makes the shim exit and remove its socket', async () => {
    expect((await shim.task.delete(POD)).exitStatus).toBe(137);
    await h.waitForEvent((e) => e.kind === 'delete' && e.containerId === POD);
    const closed = new Promise((resolve) => shim.once('close', resolve));
    expect(await shim.shutdown()).toBe(true);
    expect(await closed).toMatchObject({ unexpected: false });
    expect(await waitGone(shim.info.shimPid, 5_000)).toBe(true);
    await expect(stat(socketPathOf(shim.info.address))).rejects.toThrow(/ENOENT/);
    expect(h.mgr.get(shim.info.address)).toBeUndefined();
  });
});

/** Shim daemons (not `start` helpers) whose -id is `id`. */
function shimDaemonsFor(id: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (argv[0]?.endsWith(RUNC_SHIM) && argv[argv.indexOf('-id') + 1] === id) out.push(Number(name));
  }
  return out;
}
