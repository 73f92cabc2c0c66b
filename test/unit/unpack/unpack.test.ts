import { readFileSync, readdirSync, lstatSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { BerthError, Code } from '../../../src/util/errors.js';
import { unpackLayer, unpackLayerTuned, type UnpackOptions } from '../../../src/images/unpack/index.js';
import { encodeArchive } from '../../../src/images/unpack/tar-writer.js';
import { Scratch, compress, packTar, xattrsOf, type PackEntry } from './helpers.js';

const s = new Scratch();
afterAll(() => s.cleanup());

const T = 1_600_000_000; // seconds
const at = (sec: number) => new Date(sec * 1000);

async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BerthError);
    return { code: (err as BerthError).code, message: (err as Error).message };
  }
  throw new Error('expected the unpack to fail');
}

/** The sentinel next to every dest must be untouched, and nothing else must appear there. */
function expectNothingOutside(): void {
  expect(readdirSync(join(s.root, 'outside'))).toEqual(['keep']);
  expect(readFileSync(join(s.root, 'outside', 'keep'), 'utf8')).toBe('sentinel');
  const stray = readdirSync(s.root).filter((n) => !/^(outside|blob-\d+|dest-\d+)$/.test(n));
  expect(stray).toEqual([]);
}

async function unpackEntries(entries: PackEntry[], how: 'gzip' | 'zstd' | 'none' = 'gzip'): Promise<UnpackOptions> {
  const opts = s.layer(await packTar(entries), how);
  await unpackLayer(opts);
  return opts;
}

describe('unpackLayer: regular content', () => {
  it('writes files, dirs, symlinks and hard links with mode, owner and mtime', async () => {
    const { dest } = await unpackEntries([
      { name: 'bin/', type: 'directory', mode: 0o755, mtime: at(T + 1) },
      { name: 'bin/tool', mode: 0o4755, uid: 1000, gid: 1001, body: '#!/bin/sh\n', mtime: at(T + 2) },
      { name: 'bin/sgid', mode: 0o2711, uid: 0, gid: 42, body: 'x', mtime: at(T) },
      { name: 'bin/tool-link', type: 'link', linkname: 'bin/tool' },
      { name: 'etc/conf', mode: 0o600, uid: 7, gid: 8, body: 'secret', mtime: at(T + 3) },
      { name: 'tmp/', type: 'directory', mode: 0o1777, mtime: at(T + 4) },
      { name: 'abs-link', type: 'symlink', linkname: '/etc/passwd', uid: 5, gid: 6, mtime: at(T + 5) },
      { name: 'up-link', type: 'symlink', linkname: '../../..', mtime: at(T + 6) },
    ]);
    const tool = statSync(join(dest, 'bin/tool'));
    expect(tool.mode & 0o7777).toBe(0o4755); // setuid survives the chown
    expect([tool.uid, tool.gid]).toEqual([1000, 1001]);
    expect(tool.mtimeMs).toBe((T + 2) * 1000);
    expect(readFileSync(join(dest, 'bin/tool'), 'utf8')).toBe('#!/bin/sh\n');
    expect(statSync(join(dest, 'bin/sgid')).mode & 0o7777).toBe(0o2711);
    expect(statSync(join(dest, 'bin/tool-link')).ino).toBe(tool.ino);
    expect(tool.nlink).toBe(2);
    const conf = statSync(join(dest, 'etc/conf'));
    expect([conf.mode & 0o7777, conf.uid, conf.gid]).toEqual([0o600, 7, 8]);
    const tmp = statSync(join(dest, 'tmp'));
    expect(tmp.mode & 0o7777).toBe(0o1777);
    expect(tmp.mtimeMs).toBe((T + 4) * 1000);
    expect(statSync(join(dest, 'bin')).mtimeMs).toBe((T + 1) * 1000); // set after its children
    expect(readlinkSync(join(dest, 'abs-link'))).toBe('/etc/passwd');
    const al = lstatSync(join(dest, 'abs-link'));
    expect([al.uid, al.gid, al.mtimeMs]).toEqual([5, 6, (T + 5) * 1000]);
    expect(readlinkSync(join(dest, 'up-link'))).toBe('../../..');
    // implicit parent of etc/conf
    expect(statSync(join(dest, 'etc')).mode & 0o7777).toBe(0o755);
  });

  it('applies a directory declared after its children (mode, owner, mtime)', async () => {
    const { dest } = await unpackEntries([
      { name: 'a/b/c/file', body: 'deep', mtime: at(T) },
      { name: 'a/b/', type: 'directory', mode: 0o700, uid: 33, gid: 34, mtime: at(T + 10) },
      { name: 'a/', type: 'directory', mode: 0o750, mtime: at(T + 20) },
    ]);
    const b = statSync(join(dest, 'a/b'));
    expect([b.mode & 0o7777, b.uid, b.gid, b.mtimeMs]).toEqual([0o700, 33, 34, (T + 10) * 1000]);
    const a = statSync(join(dest, 'a'));
    expect([a.mode & 0o7777, a.mtimeMs]).toEqual([0o750, (T + 20) * 1000]);
    expect(readFileSync(join(dest, 'a/b/c/file'), 'utf8')).toBe('deep');
  });

  it('handles long names and long link targets (PAX)', async () => {
    const longDir = Array.from({ length: 12 }, (_, i) => `directory-number-${i}`).join('/');
    const longName = `${longDir}/${'f'.repeat(200)}`;
    const target = `/${'t'.repeat(300)}`;
    const { dest } = await unpackEntries([
      { name: longName, body: 'long' },
      { name: 'short-link', type: 'symlink', linkname: target },
      { name: 'ünïcødé/名前', body: 'utf8' },
    ]);
    expect(readFileSync(join(dest, longName), 'utf8')).toBe('long');
    expect(readlinkSync(join(dest, 'short-link'))).toBe(target);
    expect(readFileSync(join(dest, 'ünïcødé/名前'), 'utf8')).toBe('utf8');
  });

  it('lets a later entry replace an earlier one (file, dir, symlink)', async () => {
    const { dest } = await unpackEntries([
      { name: 'f', body: 'first' },
      { name: 'f', body: 'second', mode: 0o640 },
      { name: 'd/inner', body: 'gone' },
      { name: 'd', body: 'now a file' },
      { name: 'l', type: 'symlink', linkname: '/nowhere' },
      { name: 'l/', type: 'directory', mode: 0o711 },
      { name: 'l/x', body: 'in a real dir' },
    ]);
    expect(readFileSync(join(dest, 'f'), 'utf8')).toBe('second');
    expect(statSync(join(dest, 'f')).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(dest, 'd'), 'utf8')).toBe('now a file');
    expect(lstatSync(join(dest, 'l')).isDirectory()).toBe(true);
    expect(readFileSync(join(dest, 'l/x'), 'utf8')).toBe('in a real dir');
  });

  it('makes fifos and device nodes', async () => {
    const { dest } = await unpackEntries([
      { name: 'dev/', type: 'directory', mode: 0o755, mtime: at(T) },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime: at(T + 1) },
      { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660, gid: 6 },
      { name: 'run/fifo', type: 'fifo', mode: 0o620, uid: 12 },
      { name: 'dev/null2', type: 'link', linkname: 'dev/null' },
    ]);
    const nul = lstatSync(join(dest, 'dev/null'));
    expect(nul.isCharacterDevice()).toBe(true);
    expect(nul.rdev).toBe((1 << 8) | 3);
    expect([nul.mode & 0o7777, nul.mtimeMs]).toEqual([0o666, (T + 1) * 1000]);
    const loop = lstatSync(join(dest, 'dev/loop9'));
    expect([loop.isBlockDevice(), loop.rdev, loop.gid]).toEqual([true, (7 << 8) | 9, 6]);
    const fifo = lstatSync(join(dest, 'run/fifo'));
    expect([fifo.isFIFO(), fifo.mode & 0o7777, fifo.uid]).toEqual([true, 0o620, 12]);
    expect(lstatSync(join(dest, 'dev/null2')).isCharacterDevice()).toBe(true);
    expect(statSync(join(dest, 'dev')).mtimeMs).toBe(T * 1000); // mknods ran before dir mtimes
  });

  it('keeps exact modes whatever the process umask', async () => {
    const old = process.umask(0o077);
    try {
      const { dest } = await unpackEntries([
        { name: 'pub/', type: 'directory', mode: 0o775 },
        { name: 'pub/readme', mode: 0o664, body: 'r' },
        { name: 'implicit/file', mode: 0o644, body: 'f' },
      ]);
      expect(statSync(join(dest, 'pub')).mode & 0o7777).toBe(0o775);
      expect(statSync(join(dest, 'pub/readme')).mode & 0o7777).toBe(0o664);
      expect(statSync(join(dest, 'implicit')).mode & 0o7777).toBe(0o755);
      expect(statSync(join(dest, 'implicit/file')).mode & 0o7777).toBe(0o644);
    } finally {
      process.umask(old);
    }
  });

  it('sets the declared owner inside setgid directories', async () => {
    const { dest } = await unpackEntries([
      { name: 'shared/', type: 'directory', mode: 0o2775, gid: 50 },
      { name: 'shared/f', mode: 0o644, body: 'x' },
      { name: 'shared/d/', type: 'directory', mode: 0o755 },
      { name: 'shared/l', type: 'symlink', linkname: 'f' },
    ]);
    expect(statSync(join(dest, 'shared')).gid).toBe(50);
    expect(statSync(join(dest, 'shared/f')).gid).toBe(0); // not inherited from the setgid parent
    const d = statSync(join(dest, 'shared/d'));
    expect([d.gid, d.mode & 0o7777]).toEqual([0, 0o755]); // no inherited setgid bit either
    expect(lstatSync(join(dest, 'shared/l')).gid).toBe(0);
  });

  it('reports apparent bytes and entries', async () => {
    const opts = s.layer(
      await packTar([
        { name: 'a', body: '12345' },
        { name: 'b', type: 'link', linkname: 'a' },
        { name: 'c', type: 'symlink', linkname: 'abc' },
        { name: 'd/', type: 'directory' },
        { name: 'd/.wh.x' },
      ]),
      'none',
    );
    expect(await unpackLayer(opts)).toEqual({ bytes: 5 + 3, inodes: 5 });
  });
});

describe('unpackLayer: whiteouts', () => {
  it('turns .wh. files into 0:0 char devices and opaque markers into trusted.overlay.opaque', async () => {
    const { dest } = await unpackEntries([
      { name: 'etc/', type: 'directory', mode: 0o755, mtime: at(T) },
      { name: 'etc/.wh.passwd', uid: 0, gid: 0 },
      { name: 'var/lib/.wh..wh..opq' },
      { name: 'var/lib/new', body: 'upper' },
      { name: '.wh..wh.plnk/123', body: 'aufs' },
      { name: '.wh..wh.aufs' },
    ]);
    const wh = lstatSync(join(dest, 'etc/passwd'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(readdirSync(join(dest, 'etc'))).toEqual(['passwd']);
    expect(xattrsOf(join(dest, 'var/lib'))['trusted.overlay.opaque']).toBe('79'); // "y"
    expect(readdirSync(join(dest, 'var/lib'))).toEqual(['new']);
    expect(readdirSync(dest).sort()).toEqual(['etc', 'var']);
    expect(statSync(join(dest, 'etc')).mtimeMs).toBe(T * 1000);
  });

  it('keeps same-layer files over their whiteout and makes a re-created dir opaque', async () => {
    const { dest } = await unpackEntries([
      { name: 'keep', body: 'mine' },
      { name: '.wh.keep' },
      { name: '.wh.redo' },
      { name: 'redo/', type: 'directory' },
      { name: 'redo/x', body: 'x' },
      { name: 'dir2/', type: 'directory' },
      { name: '.wh.dir2' },
      { name: '.wh.impl' },
      { name: 'impl/file', body: 'f' },
    ]);
    expect(readFileSync(join(dest, 'impl/file'), 'utf8')).toBe('f');
    expect(xattrsOf(join(dest, 'impl'))['trusted.overlay.opaque']).toBe('79');
    expect(readFileSync(join(dest, 'keep'), 'utf8')).toBe('mine');
    expect(lstatSync(join(dest, 'redo')).isDirectory()).toBe(true);
    expect(xattrsOf(join(dest, 'redo'))['trusted.overlay.opaque']).toBe('79');
    expect(xattrsOf(join(dest, 'dir2'))['trusted.overlay.opaque']).toBe('79');
  });
});

describe('unpackLayer: xattrs', () => {
  it('applies binary security.capability and user.* but never trusted.* from the archive', async () => {
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex'); // cap_net_raw, binary bytes
    const tar = encodeArchive([
      {
        name: 'bin/ping',
        type: 'file',
        mode: 0o755,
        uid: 0,
        gid: 0,
        data: Buffer.from('elf'),
        pax: new Map([
          ['SCHILY.xattr.security.capability', cap],
          ['SCHILY.xattr.user.note', Buffer.from([0x80, 0xff, 0x00])],
          ['SCHILY.xattr.trusted.overlay.redirect', Buffer.from('/etc')],
        ]),
      },
      { name: 'lnk', type: 'symlink', linkname: 'bin/ping', pax: new Map([['SCHILY.xattr.user.x', Buffer.from('1')]]) },
    ]);
    const opts = s.layer(tar, 'gzip');
    await unpackLayer(opts);
    const x = xattrsOf(join(opts.dest, 'bin/ping'));
    expect(x['security.capability']).toBe(cap.toString('hex'));
    expect(x['user.note']).toBe('80ff00');
    expect(x['trusted.overlay.redirect']).toBeUndefined();
    expect(xattrsOf(join(opts.dest, 'lnk'))).toEqual({});
  });
});

describe('unpackLayer: escapes are refused and nothing lands outside dest', () => {
  const attempts: Array<[string, PackEntry[]]> = [
    ['../evil', [{ name: '../outside/evil', body: 'x' }]],
    ['dir/../../evil', [{ name: 'dir/../../outside/evil', body: 'x' }]],
    [
      'symlink a -> /etc, then a/passwd',
      [
        { name: 'a', type: 'symlink', linkname: '/etc' },
        { name: 'a/passwd', body: 'root::0:0::/:/bin/sh\n' },
      ],
    ],
    ['hard link to /etc/passwd', [{ name: 'pw', type: 'link', linkname: '/etc/passwd' }]],
    ['hard link to ../outside/keep', [{ name: 'pw', type: 'link', linkname: '../outside/keep' }]],
    [
      'symlink up -> .., then a file through it',
      [
        { name: 'up', type: 'symlink', linkname: '..' },
        { name: 'up/outside/evil', body: 'x' },
      ],
    ],
    [
      'whiteout through a symlink',
      [
        { name: 'up', type: 'symlink', linkname: '../outside' },
        { name: 'up/.wh.keep' },
      ],
    ],
    [
      'opaque marker through a symlink',
      [
        { name: 'up', type: 'symlink', linkname: '../outside' },
        { name: 'up/.wh..wh..opq' },
      ],
    ],
    [
      'directory through a symlink',
      [
        { name: 'up', type: 'symlink', linkname: '..' },
        { name: 'up/outside/newdir/', type: 'directory' },
      ],
    ],
  ];
  for (const [what, entries] of attempts) {
    it(`refuses ${what}`, async () => {
      const opts = s.layer(await packTar(entries), 'none');
      const { code, message } = await codeOf(unpackLayer(opts));
      expect(code).toBe(Code.DATA_LOSS);
      expect(message).toContain(opts.diffId);
      expectNothingOutside();
    });
  }

  it('re-roots absolute entry names inside dest', async () => {
    const { dest } = await unpackEntries([{ name: '/etc/hostname', body: 'inside' }]);
    expect(readFileSync(join(dest, 'etc/hostname'), 'utf8')).toBe('inside');
    expectNothingOutside();
  });
});

describe('unpackLayer: integrity and input checks', () => {
  it('refuses a diff_id mismatch with dataLoss', async () => {
    const opts = s.layer(await packTar([{ name: 'a', body: 'a' }]), 'gzip');
    const wrong = `sha256:${'0'.repeat(64)}`;
    const { code, message } = await codeOf(unpackLayer({ ...opts, diffId: wrong }));
    expect(code).toBe(Code.DATA_LOSS);
    expect(message).toMatch(/diff_id mismatch: expected sha256:0{64} got sha256:[0-9a-f]{64}/);
  });

  it('refuses a truncated gzip stream with dataLoss naming the layer', async () => {
    const tar = await packTar([{ name: 'big', body: Buffer.alloc(200_000, 7) }]);
    const opts = s.layer(tar, 'gzip');
    const gz = gzipSync(tar);
    writeFileSync(opts.blobPath, gz.subarray(0, gz.length - 100));
    const { code, message } = await codeOf(unpackLayer(opts));
    expect(code).toBe(Code.DATA_LOSS);
    expect(message).toContain(opts.diffId);
    expect(message).toContain(opts.blobPath);
  });

  it('refuses a tar cut off inside an entry', async () => {
    const tar = await packTar([{ name: 'big', body: Buffer.alloc(10_000, 1) }]);
    const opts = s.layer(tar.subarray(0, 4096), 'none');
    const { code, message } = await codeOf(unpackLayer(opts));
    expect(code).toBe(Code.DATA_LOSS);
    expect(message).toMatch(/unexpected end of stream/);
  });

  it('refuses corrupt zstd data with dataLoss (CLI and fzstd)', async () => {
    for (const zstd of ['cli', 'fzstd'] as const) {
      const tar = await packTar([{ name: 'f', body: Buffer.alloc(100_000, 3) }]);
      const opts = s.layer(tar, 'zstd');
      const blob = readFileSync(opts.blobPath);
      writeFileSync(opts.blobPath, blob.subarray(0, blob.length - 20));
      const { code } = await codeOf(unpackLayerTuned(opts, { zstd }));
      expect(code).toBe(Code.DATA_LOSS);
    }
  });

  it('refuses a non-empty dest and a non-layer media type', async () => {
    const opts = s.layer(await packTar([{ name: 'a', body: 'a' }]), 'none');
    writeFileSync(join(opts.dest, 'already'), '');
    expect((await codeOf(unpackLayer(opts))).code).toBe(Code.FAILED_PRECONDITION);
    const opts2 = s.layer(await packTar([{ name: 'a', body: 'a' }]), 'none');
    expect((await codeOf(unpackLayer({ ...opts2, mediaType: 'application/vnd.oci.image.config.v1+json' }))).code).toBe(
      Code.INVALID_ARGUMENT,
    );
  });

  it('stops with CANCELLED when aborted', async () => {
    const opts = s.layer(await packTar([{ name: 'a', body: 'a' }]), 'none');
    const ac = new AbortController();
    ac.abort();
    expect((await codeOf(unpackLayer({ ...opts, signal: ac.signal }))).code).toBe(Code.CANCELLED);
  });
});

describe('unpackLayer: compressions', () => {
  const entries: PackEntry[] = [
    { name: 'usr/lib/data.bin', body: Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251)) },
    { name: 'usr/lib/small', body: 'small' },
  ];
  for (const [how, zstd] of [
    ['none', 'auto'],
    ['gzip', 'auto'],
    ['zstd', 'cli'],
    ['zstd', 'fzstd'],
  ] as const) {
    it(`unpacks ${how} (${zstd})`, async () => {
      const opts = s.layer(await packTar(entries), how);
      await unpackLayerTuned(opts, { zstd });
      // Buffer.equals: vitest's deep equality walks 300 000 elements one by one.
      expect(readFileSync(join(opts.dest, 'usr/lib/data.bin')).equals(entries[0]!.body as Buffer)).toBe(true);
      expect(readFileSync(join(opts.dest, 'usr/lib/small'), 'utf8')).toBe('small');
    });
  }

  it('reads multi-member gzip and multi-frame zstd streams', async () => {
    const tar = await packTar(entries);
    const cut = 70_001;
    const parts = [tar.subarray(0, cut), tar.subarray(cut)];
    const gz = s.layer(tar, 'gzip');
    writeFileSync(gz.blobPath, Buffer.concat(parts.map((p) => gzipSync(p))));
    await unpackLayer(gz);
    expect(readFileSync(join(gz.dest, 'usr/lib/small'), 'utf8')).toBe('small');
    for (const zstd of ['cli', 'fzstd'] as const) {
      const zs = s.layer(tar, 'zstd');
      writeFileSync(zs.blobPath, Buffer.concat(parts.map((p) => compress(p, 'zstd'))));
      await unpackLayerTuned(zs, { zstd });
      expect(readFileSync(join(zs.dest, 'usr/lib/data.bin')).equals(entries[0]!.body as Buffer)).toBe(true);
    }
  });

  it('trusts the bytes over a lying media type', async () => {
    const opts = s.layer(await packTar(entries), 'gzip', 'application/vnd.oci.image.layer.v1.tar');
    await unpackLayer(opts);
    expect(readFileSync(join(opts.dest, 'usr/lib/small'), 'utf8')).toBe('small');
    const opts2 = s.layer(await packTar(entries), 'none', 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    await unpackLayer(opts2);
    expect(readFileSync(join(opts2.dest, 'usr/lib/small'), 'utf8')).toBe('small');
  });

  it('writes many files through a tiny in-flight window', async () => {
    const many: PackEntry[] = Array.from({ length: 300 }, (_, i) => ({ name: `d${i % 7}/f${i}`, body: `file ${i}`.repeat(i) }));
    const opts = s.layer(await packTar(many), 'gzip');
    const r = await unpackLayerTuned(opts, { limits: { maxBytesInFlight: 1024, maxOpenFiles: 2 } });
    expect(r.inodes).toBe(307);
    for (const i of [0, 1, 150, 299]) {
      expect(readFileSync(join(opts.dest, `d${i % 7}/f${i}`), 'utf8')).toBe(`file ${i}`.repeat(i));
    }
  });
});
