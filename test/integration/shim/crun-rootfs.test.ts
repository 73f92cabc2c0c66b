/**
 * A rootfs handed over as a bind Mount is mounted by the shim at <bundle>/rootfs and unmounted
 * at Delete; binary_name selects crun behind containerd-shim-runc-v2.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BerthError, Code } from '../../../src/util/errors.js';
import { mountsUnder, ShimHarness, waitGone } from './harness.js';

let h: ShimHarness;

beforeAll(async () => {
  h = await ShimHarness.create();
});

afterAll(async () => {
  await h?.cleanup();
});

/**
 * crun refuses any container on a hybrid cgroup host whose v2 hierarchy holds a controller
 * (this build host: hugetlb sits on /sys/fs/cgroup/unified).
 */
function crunRefusesHost(): boolean {
  try {
    return readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== '';
  } catch {
    return false;
  }
}

async function startPod(id: string, args: string[], binaryName?: string) {
  const b = await h.bundle(id, { args, sandboxId: id, separateRootfs: true });
  const shim = await h.start({ id, bundle: b.dir });
  const io = await h.io(id);
  const rootfs = join(b.dir, 'rootfs');
  const create = () =>
    shim.task.create({
      id,
      bundle: b.dir,
      ...io.stdio,
      rootfs: [{ type: 'bind', source: b.rootfs, target: '', options: ['rbind', 'ro'] }],
      runcOptions: binaryName ? { binaryName, root: h.crunRoot } : { root: h.runcRoot },
    });
  return { b, shim, io, rootfs, create };
}

it('mounts a rootfs Mount at <bundle>/rootfs for the container and unmounts it at Delete', async () => {
  const id = 'pod-rootfs-mount';
  const { b, shim, io, rootfs, create } = await startPod(id, ['sh', '-c', 'echo from-mounted-rootfs; ls /bin/busybox']);
  const { pid } = await create();
  expect(await mountsUnder(rootfs)).toContain(rootfs);
  const waited = shim.task.wait(id);
  await shim.task.start(id);
  expect((await io.collect()).stdout).toBe('from-mounted-rootfs\n/bin/busybox\n');
  expect((await waited).exitStatus).toBe(0);
  expect(await readFile(join(b.dir, 'runtime'), 'utf8')).toBe(''); // empty binary_name: runc
  expect((await shim.task.delete(id)).pid).toBe(pid);
  expect(await mountsUnder(rootfs)).toEqual([]);
  expect(await shim.shutdown()).toBe(true);
  expect(await waitGone(shim.info.shimPid, 5_000)).toBe(true);
});

it('selects crun with binary_name', async () => {
  const id = 'pod-crun';
  const { b, shim, io, rootfs, create } = await startPod(id, ['sh', '-c', 'echo crun-ok; exec sleep 300'], 'crun');
  if (crunRefusesHost()) {
    // crun itself answers (with its hybrid-cgroup refusal), and the failed create leaves nothing mounted.
    const err = (await create().catch((e: unknown) => e)) as BerthError;
    expect(err).toBeInstanceOf(BerthError);
    expect(err.code).toBe(Code.UNKNOWN);
    expect(err.message).toContain('cgroups in hybrid mode not supported');
    expect(await readFile(join(b.dir, 'runtime'), 'utf8')).toBe('crun');
    expect(await mountsUnder(rootfs)).toEqual([]);
  } else {
    await create();
    const waited = shim.task.wait(id);
    await shim.task.start(id);
    // The shim records the runtime it drives, and crun (not runc) holds the container's state.
    expect(await readFile(join(b.dir, 'runtime'), 'utf8')).toBe('crun');
    // containerd-shim-runc-v2 runs the runtime with --root <root>/<namespace>.
    expect((await stat(join(h.crunRoot, 'k8s.io', id))).isDirectory()).toBe(true);
    await shim.task.kill(id, 9);
    expect((await waited).exitStatus).toBe(137);
    expect((await io.collect()).stdout).toBe('crun-ok\n');
    await shim.task.delete(id);
    expect(await mountsUnder(rootfs)).toEqual([]);
  }
  expect(await shim.shutdown()).toBe(true);
  expect(await waitGone(shim.info.shimPid, 5_000)).toBe(true);
});
