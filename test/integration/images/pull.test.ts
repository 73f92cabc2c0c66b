/**
 * PullImage against a real docker-registry: manifest kinds, tag/digest references, platform
 * selection, compressions, whiteouts (checked through a real overlay mount), USER handling,
 * progress, listing and lookup.
 */
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullProgress } from '../../../src/images/index.js';
import {
  busybox,
  dir,
  file,
  hardlink,
  opaque,
  publish,
  publishIndex,
  pushImage,
  buildImage,
  symlink,
  whiteout,
} from '../../fixtures/image-builder.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { registryConfig, serviceFactory } from './helpers.js';

const run = promisify(execFile);

describe('pull from a real registry', () => {
  let reg: Registry;
  const services = serviceFactory();
  let svc: Awaited<ReturnType<typeof services.open>>;
  const ref = (r: string) => `${reg.host}/${r}`;

  beforeAll(async () => {
    reg = await startRegistry();
    svc = await services.open({ registry: registryConfig({ insecure: [reg.host] }) });
  });
  afterAll(async () => {
    await services.cleanup();
    await reg?.stop();
  });

  it('pulls a Docker schema2 image by tag and records it like containerd', async () => {
    const pushed = await publish(reg, 'lib/bb:1', busybox({ config: { User: '1000', Env: ['A=1'], WorkingDir: '/tmp', Labels: { x: 'y' } } }));
    const events: PullProgress[] = [];
    const img = await svc.pull(ref('lib/bb:1'), { onProgress: (p) => events.push(p) });
    expect(img.id).toBe(pushed.imageId);
    expect(img.repoTags).toEqual([ref('lib/bb:1')]);
    expect(img.repoDigests).toEqual([`${ref('lib/bb')}@${pushed.digest}`]);
    expect(img.manifestMediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(img.uid).toBe(1000);
    expect(img.username).toBeUndefined();
    expect(img.config).toMatchObject({ User: '1000', Env: ['A=1'], WorkingDir: '/tmp', Labels: { x: 'y' }, Cmd: ['sh'] });
    const layerBytes = pushed.image.layers.reduce((n, l) => n + l.size, 0);
    expect(img.size).toBe(pushed.image.manifest.size + pushed.image.config.size + layerBytes);
    expect(events[0].phase).toBe('resolving');
    expect(events.at(-1)).toMatchObject({ phase: 'done', imageId: img.id });
    const dl = events.filter((e) => e.phase === 'downloading');
    expect(dl.at(-1)).toMatchObject({ bytesDone: layerBytes, bytesTotal: layerBytes });
    // The snapshot is the unpacked layer.
    const [top] = svc.snapshotChain(img.id);
    expect((await lstat(join(top, 'bin/busybox'))).size).toBeGreaterThan(100_000);
    expect(await readFile(join(top, 'etc/passwd'), 'utf8')).toMatch(/^app:x:1000/m);
    expect(svc.find(img.id)?.id).toBe(img.id);
    expect(svc.find(img.id.slice(7, 19))?.id).toBe(img.id);
    expect(svc.list(ref('lib/bb:1')).map((i) => i.id)).toEqual([img.id]);
    expect(svc.list('nope:1')).toEqual([]);
    expect(await svc.imageSpec(img.id)).toMatchObject({ architecture: 'amd64', os: 'linux', config: { User: '1000' } });
  });

  it('pulls from a plain-http registry on the loopback with no registry configuration (as containerd does)', async () => {
    const pushed = await publish(reg, 'lib/loop:1', busybox());
    const bare = await services.open({ registry: registryConfig() });
    const img = await bare.pull(ref('lib/loop:1'));
    expect(img.id).toBe(pushed.imageId);
    // Another address of the same registry, not on the loopback, still needs configuration.
    await expect(bare.pull(`localhost.invalid:${reg.port}/lib/loop:1`)).rejects.toThrow(/https:\/\/localhost\.invalid/);
  });

  it('pulls an OCI image by digest and by name:tag@digest, with a named USER', async () => {
    const pushed = await publish(reg, 'lib/oci:2', busybox({ format: 'oci', config: { User: 'app:app' } }));
    const byDigest = await svc.pull(`${ref('lib/oci')}@${pushed.digest}`);
    expect(byDigest.id).toBe(pushed.imageId);
    expect(byDigest.manifestMediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(byDigest.repoTags).toEqual([]);
    expect(byDigest.repoDigests).toEqual([`${ref('lib/oci')}@${pushed.digest}`]);
    expect(byDigest.username).toBe('app');
    expect(byDigest.uid).toBeUndefined();
    const both = await svc.pull(`${ref('lib/oci:2')}@${pushed.digest}`);
    expect(both.id).toBe(pushed.imageId);
    const byTag = await svc.pull(ref('lib/oci:2'));
    expect(byTag.repoTags).toEqual([ref('lib/oci:2')]);
    expect(svc.find(`${ref('lib/oci')}@${pushed.digest}`)?.id).toBe(pushed.imageId);
  });

  it.each(['oci', 'docker'] as const)('picks linux/amd64 from a multi-platform %s index', async (format) => {
    const mk = (arch: string) => busybox({ config: { Labels: { arch, format } } });
    const pushed = await publishIndex(
      reg,
      `lib/multi-${format}:1`,
      [
        { spec: mk('arm64'), platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { spec: mk('amd64'), platform: { os: 'linux', architecture: 'amd64' } },
        { spec: mk('s390x'), platform: { os: 'linux', architecture: 's390x' } },
      ],
      format,
    );
    const img = await svc.pull(ref(`lib/multi-${format}:1`));
    expect(img.config.Labels).toEqual({ arch: 'amd64', format });
    expect(img.platform).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(img.repoDigests).toEqual([`${ref(`lib/multi-${format}`)}@${pushed.digest}`]);
    const amd = pushed.images[1].image;
    expect(img.manifestDigest).toBe(amd.manifest.digest);
    expect(img.blobs).toContain(pushed.digest);
  });

  it('pulls zstd, gzip and uncompressed layers', async () => {
    const spec = busybox({
      format: 'oci',
      compression: 'zstd',
      layers: [
        { compression: 'none', entries: [file('/plain.txt', 'plain\n')] },
        { compression: 'gzip', entries: [file('/gz.txt', 'gz\n')] },
      ],
    });
    const pushed = await publish(reg, 'lib/zstd:1', spec);
    expect(pushed.image.layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.oci.image.layer.v1.tar+zstd',
      'application/vnd.oci.image.layer.v1.tar',
      'application/vnd.oci.image.layer.v1.tar+gzip',
    ]);
    const img = await svc.pull(ref('lib/zstd:1'));
    const [gz, plain, base] = svc.snapshotChain(img.id);
    expect(await readFile(join(gz, 'gz.txt'), 'utf8')).toBe('gz\n');
    expect(await readFile(join(plain, 'plain.txt'), 'utf8')).toBe('plain\n');
    expect((await readdir(join(base, 'bin'))).length).toBeGreaterThan(20);
  });

  it('unpacks whiteouts and opaque dirs so an overlay mount shows the right tree', async () => {
    const spec = busybox({
      layers: [
        {
          entries: [
            file('/etc/motd', 'hello\n'),
            file('/data/a', 'a'),
            file('/data/b', 'b'),
            file('/opt/keep/x', 'x'),
            file('/opt/gone/y', 'y'),
            symlink('/opt/link', 'keep/x'),
            hardlink('/opt/keep/x2', '/opt/keep/x'),
          ],
        },
        { entries: [whiteout('/etc/motd'), opaque('/data'), file('/data/c', 'c'), whiteout('/opt/gone'), dir('/new', { mode: 0o700 })] },
      ],
    });
    await publish(reg, 'lib/wh:1', spec);
    const img = await svc.pull(ref('lib/wh:1'));
    const chain = svc.snapshotChain(img.id);
    expect(chain).toHaveLength(3);
    const wh = await lstat(join(chain[0], 'etc/motd'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    const mnt = join(await services.root(), 'mnt');
    await mkdir(mnt);
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${chain.join(':')}`, mnt]);
    try {
      expect(await readdir(join(mnt, 'etc'))).not.toContain('motd');
      expect((await readdir(join(mnt, 'data'))).sort()).toEqual(['c']);
      expect((await readdir(join(mnt, 'opt'))).sort()).toEqual(['keep', 'link']);
      expect(await readFile(join(mnt, 'opt/link'), 'utf8')).toBe('x');
      expect((await lstat(join(mnt, 'opt/keep/x2'))).ino).toBe((await lstat(join(mnt, 'opt/keep/x'))).ino);
      expect((await lstat(join(mnt, 'new'))).mode & 0o777).toBe(0o700);
      expect((await lstat(join(mnt, 'bin/busybox'))).isFile()).toBe(true);
    } finally {
      await run('umount', [mnt]);
      await rm(mnt, { recursive: true, force: true });
    }
  });

  it('pushes and pulls with chunked uploads too', async () => {
    const image = await buildImage(busybox({ layers: [{ entries: [file('/big', Buffer.alloc(300_000, 7))] }] }));
    await pushImage(reg, 'lib/chunked', 'v1', image, { chunkSize: 64 * 1024 });
    const img = await svc.pull(ref('lib/chunked:v1'));
    expect((await lstat(join(svc.snapshotChain(img.id)[0], 'big'))).size).toBe(300_000);
  });

  it('normalises short names and lists images', async () => {
    const ids = svc.list().map((i) => i.id);
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(new Set(ids).size).toBe(ids.length);
    expect(svc.find('busybox')).toBeUndefined();
  });
});
