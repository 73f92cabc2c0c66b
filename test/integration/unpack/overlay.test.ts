import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unpackLayer } from '../../../src/images/unpack/index.js';
import { Scratch, packTar } from '../../unit/unpack/helpers.js';

/**
 * Real overlayfs over two unpacked layers: the top layer deletes a file and a directory of
 * the bottom layer with whiteouts and makes a directory opaque. The merged view must show
 * exactly what `docker run` of that image would.
 */
describe('unpacked layers as overlayfs lowerdirs', () => {
  const s = new Scratch();
  const mounted: string[] = [];
  afterAll(() => {
    for (const m of mounted.reverse()) {
      try {
        execFileSync('umount', [m]);
      } catch {
        execFileSync('umount', ['-l', m]);
      }
    }
    s.cleanup();
  });

  it('hides whited-out files and the lower content of opaque directories', async () => {
    const bottom = s.layer(
      await packTar([
        { name: 'etc/', type: 'directory', mode: 0o755 },
        { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n' },
        { name: 'etc/hostname', body: 'base\n' },
        { name: 'opq/', type: 'directory', mode: 0o755 },
        { name: 'opq/old', body: 'old' },
        { name: 'opq/sub/older', body: 'older' },
        { name: 'gone/', type: 'directory', mode: 0o755 },
        { name: 'gone/inside', body: 'x' },
        { name: 'data/x', body: 'x' },
        { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      ]),
      'gzip',
    );
    const top = s.layer(
      await packTar([
        { name: 'etc/', type: 'directory', mode: 0o755 },
        { name: 'etc/.wh.passwd' },
        { name: '.wh.gone' },
        { name: 'opq/', type: 'directory', mode: 0o755 },
        { name: 'opq/.wh..wh..opq' },
        { name: 'opq/new', body: 'new' },
        { name: 'data/y', body: 'y' },
      ]),
      'zstd',
    );
    await unpackLayer(bottom);
    await unpackLayer(top);

    const upper = join(s.root, 'upper');
    const work = join(s.root, 'work');
    const merged = join(s.root, 'merged');
    for (const d of [upper, work, merged]) mkdirSync(d);
    execFileSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${top.dest}:${bottom.dest},upperdir=${upper},workdir=${work}`,
      merged,
    ]);
    mounted.push(merged);

    expect(readdirSync(join(merged, 'etc')).sort()).toEqual(['hostname']);
    expect(existsSync(join(merged, 'etc/passwd'))).toBe(false);
    expect(existsSync(join(merged, 'gone'))).toBe(false);
    expect(readdirSync(join(merged, 'opq'))).toEqual(['new']);
    expect(readFileSync(join(merged, 'opq/new'), 'utf8')).toBe('new');
    expect(readdirSync(join(merged, 'data')).sort()).toEqual(['x', 'y']);
    expect(readdirSync(merged).sort()).toEqual(['data', 'dev', 'etc', 'opq']);

    // The merged view is writable through the upper dir; lower layers stay untouched.
    writeFileSync(join(merged, 'etc/passwd'), 'recreated\n');
    expect(readFileSync(join(merged, 'etc/passwd'), 'utf8')).toBe('recreated\n');
    expect(readFileSync(join(bottom.dest, 'etc/passwd'), 'utf8')).toBe('root:x:0:0::/root:/bin/sh\n');
  });
});
