/**
 * The stores behind PullImage: deduplicated concurrent pulls, layers shared between images,
 * tags that move, removal + garbage collection, restart, start-up cleanup, ImageFsInfo
 * accounting, and a full disk (a real 1 MiB tmpfs).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageService } from '../../../src/images/index.js';
import { Code } from '../../../src/util/errors.js';
import { busybox, file, publish } from '../../fixtures/image-builder.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { startProxy, type RegistryProxy } from '../../fixtures/registry-proxy.js';
import { expectCode, ls, registryConfig, serviceFactory } from './helpers.js';

const run = promisify(execFile);
const hex = (d: string) => d.slice(7);

describe('image and content stores', () => {
  let reg: Registry;
  let proxy: RegistryProxy;
  const services = serviceFactory();
  const cfg = () => registryConfig({ insecure: [proxy.host] });
  const ref = (r: string) => `${proxy.host}/${r}`;
  let base: string;
  let layerA: string;
  let layerB: string;

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startProxy({ target: reg.url });
    const a = await publish(reg, 's/a:1', busybox({ layers: [{ entries: [file('/a', randomBytes(100_000))] }] }));
    const b = await publish(reg, 's/b:1', busybox({ layers: [{ entries: [file('/b', randomBytes(100_000))] }] }));
    base = a.image.layers[0].digest;
    expect(b.image.layers[0].digest).toBe(base);
    layerA = a.image.layers[1].digest;
    layerB = b.image.layers[1].digest;
  });
  afterAll(async () => {
    await services.cleanup();
    await proxy?.stop();
    await reg?.stop();
  });

  it('downloads once for identical concurrent pulls, and shares common layers between images', async () => {
    const svc = await services.open({ registry: cfg() });
    const start = proxy.requests.length;
    const pulls = await Promise.all([...Array(5)].map(() => svc.pull(ref('s/a:1'))).concat([svc.pull(ref('s/b:1')), svc.pull(ref('s/b:1'))]));
    expect(new Set(pulls.map((p) => p.id)).size).toBe(2);
    const reqs = proxy.requests.slice(start);
    const gets = (d: string) => reqs.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${d}`)).length;
    expect(gets(base)).toBe(1);
    expect(gets(layerA)).toBe(1);
    expect(gets(layerB)).toBe(1);
    expect(reqs.filter((r) => r.path === '/v2/s/a/manifests/1').length).toBe(1);
    const [a, b] = [svc.get(ref('s/a:1')), svc.get(ref('s/b:1'))];
    expect(a.layers[0].chainId).toBe(b.layers[0].chainId);
    expect(svc.snapshotChain(a.id)[1]).toBe(svc.snapshotChain(b.id)[1]);
    expect(svc.snapshots.list()).toHaveLength(3);
    expect(svc.content.list().filter((d) => d === base)).toHaveLength(1);
    // A second pull of an image we have downloads no layer.
    const before = proxy.requests.length;
    await svc.pull(ref('s/a:1'));
    expect(proxy.requests.slice(before).filter((r) => r.path.includes('/blobs/sha256:') && r.path.endsWith(layerA))).toEqual([]);
  });

  it('removes an image and collects what only it used; shared content stays', async () => {
    const root = await services.root();
    const svc = await services.open({ root, registry: cfg() });
    const a = await svc.pull(ref('s/a:1'));
    const b = await svc.pull(ref('s/b:1'));
    const usageBoth = await svc.fsInfo();
    const out = await svc.remove(a.id);
    expect(out).toMatchObject({ imageId: a.id, imageRemoved: true });
    const blobs = await ls(join(root, 'content/blobs/sha256'));
    expect(blobs).toContain(hex(base));
    expect(blobs).not.toContain(hex(layerA));
    expect(blobs).not.toContain(hex(a.id));
    expect(blobs).not.toContain(hex(a.manifestDigest));
    const snaps = await ls(join(root, 'snapshots'));
    expect(snaps).toEqual([hex(b.layers[0].chainId), hex(b.layers[1].chainId)].sort());
    const usageB = await svc.fsInfo();
    expect(usageB.usedBytes).toBeLessThan(usageBoth.usedBytes);
    expect(usageB.inodesUsed).toBeLessThan(usageBoth.inodesUsed);
    await svc.remove(ref('s/b:1'));
    expect(await ls(join(root, 'content/blobs/sha256'))).toEqual([]);
    expect(await ls(join(root, 'snapshots'))).toEqual([]);
    await expectCode(svc.remove(ref('s/b:1')), Code.NOT_FOUND);
    expect((await svc.fsInfo()).usedBytes).toBe(0);
    expect(svc.list()).toEqual([]);
  });

  it('removing one of several tags keeps the image; a re-pulled tag moves to the new image', async () => {
    const svc = await services.open({ registry: cfg() });
    await publish(reg, 's/t:v1', busybox({ config: { Labels: { v: '1' } } }));
    await publish(reg, 's/t:stable', busybox({ config: { Labels: { v: '1' } } }));
    const one = await svc.pull(ref('s/t:v1'));
    await svc.pull(ref('s/t:stable'));
    expect(svc.get(one.id).repoTags).toEqual([ref('s/t:v1'), ref('s/t:stable')]);
    expect(await svc.remove(ref('s/t:v1'))).toMatchObject({ imageRemoved: false, removedRefs: [ref('s/t:v1')] });
    expect(svc.get(one.id).repoTags).toEqual([ref('s/t:stable')]);
    expect(svc.snapshots.has(one.layers[0].chainId)).toBe(true);
    const pushed2 = await publish(reg, 's/t:stable', busybox({ config: { Labels: { v: '2' } } }));
    const two = await svc.pull(ref('s/t:stable'));
    expect(two.id).toBe(pushed2.imageId);
    expect(svc.get(ref('s/t:stable')).id).toBe(two.id);
    expect(svc.get(one.id)).toMatchObject({ repoTags: [] });
    expect(svc.get(one.id).repoDigests).toHaveLength(1);
  });

  it('a new service over the same root sees the images (restart)', async () => {
    const root = await services.root();
    const first = await services.open({ root, registry: cfg() });
    const a = await first.pull(ref('s/a:1'), { pinned: true });
    await first.close();
    const second = await services.open({ root, registry: cfg() });
    expect(second.list().map((i) => [i.id, i.repoTags, i.pinned])).toEqual([[a.id, [ref('s/a:1')], true]]);
    expect(second.snapshotChain(a.id)).toEqual(first.snapshotChain(a.id));
    expect((await stat(second.snapshotChain(a.id)[0])).isDirectory()).toBe(true);
    expect((await second.fsInfo()).usedBytes).toBe((await first.fsInfo()).usedBytes);
    expect((await second.setPinned(a.id, false)).pinned).toBe(false);
  });

  it('cleans interrupted writes and unreferenced content at start-up; keeps snapshots containers use', async () => {
    const root = await services.root();
    const first = await services.open({ root, registry: cfg() });
    const a = await first.pull(ref('s/a:1'));
    await first.close();
    await writeFile(join(root, 'content/ingest/partial'), 'x');
    await writeFile(join(root, 'content/blobs/sha256/.tmp-junk'), 'x');
    await writeFile(join(root, 'content/blobs/sha256', 'ab'.repeat(32)), 'unreferenced');
    await mkdir(join(root, 'snapshots/.tmp-123/fs/usr'), { recursive: true });
    await mkdir(join(root, 'snapshots/.trash-456'), { recursive: true });
    const second = await services.open({ root, registry: cfg() });
    expect(await ls(join(root, 'content/ingest'))).toEqual([]);
    const blobs = await ls(join(root, 'content/blobs/sha256'));
    expect(blobs).not.toContain('ab'.repeat(32));
    expect(blobs).not.toContain('.tmp-junk');
    expect(blobs).toContain(hex(layerA));
    expect((await ls(join(root, 'snapshots'))).filter((n) => n.startsWith('.'))).toEqual([]);
    // A container still runs on a's layers: GC roots keep its snapshots after the image goes.
    await second.close();
    const inUse = a.layers.map((l) => l.chainId);
    const third = await services.open({ root, registry: cfg(), gcRoots: () => inUse });
    await third.remove(a.id);
    expect((await ls(join(root, 'snapshots'))).sort()).toEqual(inUse.map(hex).sort());
    expect(await ls(join(root, 'content/blobs/sha256'))).toEqual([]);
  });

  it('reports the filesystem holding the store', async () => {
    const root = await services.root();
    const svc = await services.open({ root, registry: cfg() });
    const { stdout } = await run('stat', ['-c', '%m', root]);
    const info = await svc.fsInfo();
    expect(info.mountpoint).toBe(stdout.trim());
    expect(info.timestampNanos).toBeGreaterThan(BigInt(Date.now() - 60_000) * 1_000_000n);
  });

  it('RESOURCE_EXHAUSTED when the disk is full, with nothing half-written', async () => {
    await publish(reg, 's/big:1', busybox({ compression: 'none', layers: [{ compression: 'none', entries: [file('/big', randomBytes(1_500_000))] }] }));
    const mnt = await services.root();
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    try {
      const svc = await services.open({ root: mnt, registry: cfg() });
      const err = await expectCode(svc.pull(ref('s/big:1')), Code.RESOURCE_EXHAUSTED);
      expect(err.message).toMatch(/no space left/);
      await svc.close();
      expect(await ls(join(mnt, 'content/ingest'))).toEqual([]);
      expect((await ls(join(mnt, 'snapshots'))).filter((n) => n.startsWith('.'))).toEqual([]);
      expect(svc.list()).toEqual([]);
    } finally {
      await run('umount', [mnt]);
      await rm(mnt, { recursive: true, force: true });
    }
  });
});
