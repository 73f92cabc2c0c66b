import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ByteSource } from '../../../src/images/unpack/byte-source.js';
import { TarFormatError } from '../../../src/images/unpack/tar-header.js';
import { TarReader, type TarEntry } from '../../../src/images/unpack/tar-reader.js';
import { encodeArchive, encodeEntryHeader, END_OF_ARCHIVE } from '../../../src/images/unpack/tar-writer.js';
import { packTar } from './helpers.js';

async function* chunked(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let pos = 0;
  let i = 0;
  while (pos < buf.length) {
    const n = sizes[i++ % sizes.length]!;
    yield buf.subarray(pos, pos + n);
    pos += n;
  }
}

async function readAll(tar: Buffer, sizes = [tar.length || 1]): Promise<Array<TarEntry & { data: string }>> {
  const reader = new TarReader(new ByteSource(chunked(tar, sizes)));
  const out: Array<TarEntry & { data: string }> = [];
  for (;;) {
    const e = await reader.next();
    if (!e) return out;
    const parts: Buffer[] = [];
    for (let c = await reader.readBody(7); c; c = await reader.readBody(7)) parts.push(Buffer.from(c));
    out.push({ ...e, data: Buffer.concat(parts).toString() });
  }
}

const work = mkdtempSync(join(tmpdir(), 'berth-tarreader-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Archive `names` under a fresh directory with GNU tar in the given format. */
function gnuTar(format: string, build: (dir: string) => void): Buffer {
  const dir = mkdtempSync(join(work, 'src-'));
  build(dir);
  return execFileSync('tar', [`--format=${format}`, '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 26 });
}

describe('TarReader', () => {
  it('reads tar-stream output regardless of how the stream is chunked', async () => {
    const tar = await packTar([
      { name: 'dir/', type: 'directory', mode: 0o700 },
      { name: 'dir/file', body: 'hello world, more than seven bytes', uid: 5, gid: 6 },
      { name: `x/${'n'.repeat(180)}`, body: 'long' },
      { name: 'sym', type: 'symlink', linkname: 'dir/file' },
    ]);
    for (const sizes of [[tar.length], [1], [511, 1, 513], [4096, 3]]) {
      const entries = await readAll(tar, sizes);
      expect(entries.map((e) => [e.name, e.type, e.data])).toEqual([
        ['dir/', 'dir', ''],
        ['dir/file', 'file', 'hello world, more than seven bytes'],
        [`x/${'n'.repeat(180)}`, 'file', 'long'],
        ['sym', 'symlink', ''],
      ]);
      expect(entries[1]).toMatchObject({ uid: 5, gid: 6, mode: 0o644 });
      expect(entries[3]!.linkname).toBe('dir/file');
    }
  });

  it('reads GNU long names and long link targets', async () => {
    const longName = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const longTarget = 't'.repeat(200);
    const tar = gnuTar('gnu', (dir) => {
      mkdirSync(join(dir, 'd'.repeat(120)));
      writeFileSync(join(dir, longName), 'gnu');
      symlinkSync(longTarget, join(dir, 'lnk'));
    });
    const entries = await readAll(tar, [1000]);
    const file = entries.find((e) => e.name.endsWith('f'.repeat(150)))!;
    expect(file.name).toBe(`./${longName}`);
    expect(file.data).toBe('gnu');
    expect(entries.find((e) => e.name === './lnk')!.linkname).toBe(longTarget);
  });

  it('reads v7 archives (directories marked only by a trailing slash)', async () => {
    const tar = gnuTar('v7', (dir) => {
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub/f'), 'v7');
    });
    const entries = await readAll(tar);
    expect(entries.find((e) => e.name === './sub/')?.type).toBe('dir');
    expect(entries.find((e) => e.name === './sub/f')?.data).toBe('v7');
  });

  it('keeps binary PAX xattr values and PAX mtime/uid', async () => {
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x20, 0xff, 0x00]);
    const tar = encodeArchive([
      {
        name: 'f',
        type: 'file',
        uid: 3_000_000, // too big for the octal field: goes to PAX
        mtime: 1_700_000_000.5,
        data: Buffer.from('x'),
        pax: new Map([
          ['SCHILY.xattr.security.capability', cap],
          ['LIBARCHIVE.xattr.user.a%3Db', Buffer.from(Buffer.from([0xc3, 0x28]).toString('base64'))],
        ]),
      },
    ]);
    const [e] = await readAll(tar, [100]);
    expect(e!.uid).toBe(3_000_000);
    expect(e!.mtime).toBe(1_700_000_000.5);
    expect(e!.xattrs?.get('security.capability')).toEqual(cap);
    expect(e!.xattrs?.get('user.a=b')).toEqual(Buffer.from([0xc3, 0x28]));
  });

  it('ignores PAX global headers and stops at the first zero block', async () => {
    const g = encodeEntryHeader({ name: 'pax_global_header', type: 'file', size: 512 });
    g[156] = 0x67; // 'g'
    g.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of g) sum += b;
    g.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    const body = Buffer.alloc(512);
    body.write('22 comment=ignored me\n');
    const tar = Buffer.concat([g, body, encodeArchive([{ name: 'a', type: 'file', data: Buffer.from('A') }])]);
    const entries = await readAll(tar, [700]);
    expect(entries.map((e) => e.name)).toEqual(['a']);
  });

  it('accepts a clean end of stream without the end-of-archive marker', async () => {
    const tar = encodeArchive([{ name: 'a', type: 'file', data: Buffer.from('A') }]);
    const entries = await readAll(tar.subarray(0, tar.length - END_OF_ARCHIVE.length));
    expect(entries.map((e) => e.data)).toEqual(['A']);
  });

  it('refuses truncation, bad checksums and sparse files', async () => {
    const tar = encodeArchive([{ name: 'a', type: 'file', data: Buffer.alloc(2000, 1) }]);
    await expect(readAll(tar.subarray(0, 1000))).rejects.toThrow(TarFormatError);
    await expect(readAll(tar.subarray(0, 300))).rejects.toThrow(TarFormatError);
    const bad = Buffer.from(tar);
    bad[10] = 0x41;
    await expect(readAll(bad)).rejects.toThrow(/checksum/);
    const sparse = encodeEntryHeader({ name: 's', type: 'file' });
    sparse[156] = 0x53; // 'S'
    sparse.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of sparse) sum += b;
    sparse.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    await expect(readAll(Buffer.concat([sparse, END_OF_ARCHIVE]))).rejects.toThrow(/sparse/);
  });
});
