/**
 * Surviving berthd restarts and shim deaths: reconnect to a running shim by its address, clean
 * up after a SIGKILLed shim with the binary's `delete`, and clear errors when `start` fails.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthError, Code } from '../../../src/util/errors.js';
import { ShimManager } from '../../../src/runtimes/shim/manager.js';
import type { ShimCloseEvent } from '../../../src/runtimes/shim/shim.js';
import { socketPathOf } from '../../../src/runtimes/shim/ttrpc/method.js';
import { isAlive, RUNC_SHIM, ShimHarness, waitGone } from './harness.js';

let h: ShimHarness;

beforeAll(async () => {
  h = await ShimHarness.create();
});

afterAll(async () => {
  await h?.cleanup();
});

async function runningPod(id: string) {
  const b = await h.bundle(id, { args: ['sleep', '300'], sandboxId: id });
  const shim = await h.start({ id, bundle: b.dir });
  const { pid } = await shim.task.create({ id, bundle: b.dir, runcOptions: { root: h.runcRoot } });
  await shim.task.start(id);
  return { shim, pid, bundle: b.dir };
}

describe('recovery', () => {
  it('reconnects to a running shim by address; the container is still running', async () => {
    const { shim, pid, bundle } = await runningPod('pod-reconnect');
    const info = { ...shim.info };
    const closed = new Promise<ShimCloseEvent>((resolve) => shim.once('close', resolve));
    shim.close(); // as if berthd went away
    expect((await closed).unexpected).toBe(false);
    expect(isAlive(info.shimPid)).toBe(true);

    // A fresh manager, as after a berthd restart, given only what the caller persisted.
    const mgr2 = new ShimManager({ address: join(h.dir, 'berth.sock'), eventsAddress: join(h.dir, 'events.sock') });
    const again = h.track(await mgr2.connect({ id: info.id, address: info.address, bundle, binary: info.binary }));
    expect(again.info).toEqual(info);
    expect(await again.task.state(info.id)).toMatchObject({ status: 'running', pid });
    expect(await again.task.connect(info.id)).toMatchObject({ shimPid: info.shimPid, taskPid: pid });

    const waited = again.task.wait(info.id);
    await again.task.kill(info.id, 9);
    expect((await waited).exitStatus).toBe(137);
    await h.waitForEvent((e) => e.kind === 'exit' && e.containerId === info.id);
    await again.task.delete(info.id);
    expect(await again.shutdown()).toBe(true);
    expect(await waitGone(info.shimPid, 5_000)).toBe(true);
  });

  it('cleans up after a shim that was SIGKILLed, like containerd does', async () => {
    const id = 'pod-dead-shim';
    const { shim, pid, bundle } = await runningPod(id);
    const closed = new Promise<ShimCloseEvent>((resolve) => shim.once('close', resolve));
    process.kill(shim.info.shimPid, 'SIGKILL');
    const ev = await closed;
    expect(ev.unexpected).toBe(true);
    expect(ev.info.id).toBe(id);
    expect(await waitGone(shim.info.shimPid, 5_000)).toBe(true);
    expect(isAlive(pid)).toBe(true); // the container outlives its shim
    await expect(stat(socketPathOf(shim.info.address))).resolves.toBeTruthy(); // stale socket left behind

    const exit = await h.mgr.cleanupDeadShim({ binary: RUNC_SHIM, id, bundle, address: shim.info.address });
    expect(exit).toMatchObject({ pid, exitStatus: 137 });
    expect(exit.exitedAtNs).toBeGreaterThan(0n);
    expect(await waitGone(pid, 5_000)).toBe(true);
    await expect(stat(join(h.runcRoot, id))).rejects.toThrow(/ENOENT/);
    await expect(stat(socketPathOf(shim.info.address))).rejects.toThrow(/ENOENT/);
  });

  it('reports the shim\'s stderr when `start` fails', async () => {
    const b = await h.bundle('pod-bad-config', { args: ['true'] });
    await writeFile(join(b.dir, 'config.json'), '{ not json');
    const err = (await h.mgr.start({ binary: RUNC_SHIM, id: 'pod-bad-config', bundle: b.dir }).catch((e: unknown) => e)) as BerthError;
    expect(err).toBeInstanceOf(BerthError);
    expect(err.code).toBe(Code.INTERNAL);
    expect(err.message).toMatch(/starting shim containerd-shim-runc-v2 for pod-bad-config .*exited with 1: .*invalid character/);
  });

  it('refuses a missing shim binary and a bundle not named after its id', async () => {
    const b = await h.bundle('pod-no-binary', { args: ['true'] });
    const missing = (await h.mgr.start({ binary: 'containerd-shim-nope-v2', id: 'pod-no-binary', bundle: b.dir }).catch((e: unknown) => e)) as BerthError;
    expect(missing.code).toBe(Code.FAILED_PRECONDITION);
    expect(missing.message).toContain('containerd-shim-nope-v2 not found');
    const misnamed = (await h.mgr.start({ binary: RUNC_SHIM, id: 'other-id', bundle: b.dir }).catch((e: unknown) => e)) as BerthError;
    expect(misnamed.code).toBe(Code.INVALID_ARGUMENT);
  });
});
