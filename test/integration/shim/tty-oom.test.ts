/** A terminal exec resized through ResizePty, and the /tasks/oom event from a memory-limited container. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readUntil, ShimHarness, waitGone } from './harness.js';

let h: ShimHarness;

beforeAll(async () => {
  h = await ShimHarness.create();
});

afterAll(async () => {
  await h?.cleanup();
});

it('runs an exec on a pty and resizes it', async () => {
  const id = 'pod-tty';
  const b = await h.bundle(id, { args: ['sleep', '300'], sandboxId: id });
  const shim = await h.start({ id, bundle: b.dir });
  await shim.task.create({ id, bundle: b.dir, runcOptions: { root: h.runcRoot } });
  await shim.task.start(id);

  const io = await h.io('tty-exec', { stdin: true, terminal: true });
  expect(io.stdio.stderr).toBe('');
  await shim.task.exec({
    id,
    execId: 'tty-exec',
    ...io.stdio,
    process: { terminal: true, args: ['sh', '-c', 'read go; stty size'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
  });
  await shim.task.start(id, 'tty-exec');
  await shim.task.resizePty(id, 'tty-exec', 123, 45);
  io.stdin!.write('go\n');
  expect(await readUntil(io.stdout!, '45 123')).toContain('45 123');
  expect((await shim.task.wait(id, 'tty-exec')).exitStatus).toBe(0);
  await shim.task.delete(id, 'tty-exec');

  await shim.task.kill(id, 9);
  await shim.task.wait(id);
  await shim.task.delete(id);
  expect(await shim.shutdown()).toBe(true);
  expect(await waitGone(shim.info.shimPid, 5_000)).toBe(true);
});

it('publishes /tasks/oom when the container hits its memory limit', async () => {
  const id = 'pod-oom';
  const b = await h.bundle(id, {
    args: ['sh', '-c', 'x=aaaaaaaa; while true; do x="$x$x"; done'],
    sandboxId: id,
    resources: { memory: { limit: 16 << 20 } },
  });
  const shim = await h.start({ id, bundle: b.dir });
  await shim.task.create({ id, bundle: b.dir, runcOptions: { root: h.runcRoot } });
  const waited = shim.task.wait(id);
  await shim.task.start(id);
  const oom = await h.waitForEvent((e) => e.kind === 'oom' && e.containerId === id, 30_000);
  expect(oom).toMatchObject({ topic: '/tasks/oom', namespace: 'k8s.io' });
  expect((await waited).exitStatus).toBe(137);
  await shim.task.delete(id);
  expect(await shim.shutdown()).toBe(true);
  expect(await waitGone(shim.info.shimPid, 5_000)).toBe(true);
});
