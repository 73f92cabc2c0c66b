/**
 * The shared test images really work: the busybox base runs its applets and knows its users,
 * and the pause image, run as PID 1 of a new PID namespace, exits 0 promptly on SIGTERM.
 * (Pulled with our client, run from the unpacked snapshot with chroot — no runtime needed.)
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busybox, pause, publish } from '../../fixtures/image-builder.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { registryConfig, serviceFactory } from './helpers.js';

const run = promisify(execFile);

describe('test images', () => {
  let reg: Registry;
  const services = serviceFactory();
  let svc: Awaited<ReturnType<typeof services.open>>;

  beforeAll(async () => {
    reg = await startRegistry();
    svc = await services.open({ registry: registryConfig({ insecure: [reg.host] }) });
  });
  afterAll(async () => {
    await services.cleanup();
    await reg?.stop();
  });

  it('busybox: applets and users work in its root filesystem', async () => {
    await publish(reg, 'fx/busybox:1', busybox());
    const img = await svc.pull(`${reg.host}/fx/busybox:1`);
    const [rootfs] = svc.snapshotChain(img.id);
    const { stdout } = await run('chroot', [rootfs, '/bin/sh', '-c', 'id app; ls /bin | wc -l; echo hi | cat; test -d /tmp && echo tmp']);
    expect(stdout.split('\n').slice(0, 4)).toEqual(['uid=1000(app) gid=1000(app) groups=1000(app)', expect.stringMatching(/^\s*\d+$/), 'hi', 'tmp']);
    expect(Number(stdout.split('\n')[1])).toBeGreaterThan(40);
  });

  it('pause: exits 0 on SIGTERM as PID 1', async () => {
    await publish(reg, 'fx/pause:1', pause());
    const img = await svc.pull(`${reg.host}/fx/pause:1`);
    const [rootfs] = svc.snapshotChain(img.id);
    const argv = [...(img.config.Entrypoint ?? []), ...(img.config.Cmd ?? [])];
    const child = spawn('unshare', ['--pid', '--fork', 'chroot', rootfs, ...argv], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The forked PID 1 is unshare's only child; wait until it runs the loop (has its own child).
      let pid1 = 0;
      for (let i = 0; i < 100 && !pid1; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const kids = (await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '')).trim();
        if (kids && (await readFile(`/proc/${kids}/task/${kids}/children`, 'utf8').catch(() => '')).trim()) pid1 = Number(kids);
      }
      expect(pid1).toBeGreaterThan(0);
      process.kill(pid1, 'SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
