import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

export type PackEntry = Partial<Header> & { name: string; body?: string | Buffer };

/** Build a tar archive in memory with tar-stream (PAX headers for long names). */
export async function packTar(entries: PackEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    p.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    p.on('end', () => resolve(Buffer.concat(chunks)));
    p.on('error', reject);
  });
  for (const { body, ...header } of entries) {
    const h = { mtime: new Date(1_600_000_000_000), ...header };
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      const isFile = h.type === undefined || h.type === 'file';
      if (body !== undefined || isFile) p.entry(h, body ?? '', cb);
      else p.entry(h, cb);
    });
  }
  p.finalize();
  return done;
}

export type Compress = 'gzip' | 'zstd' | 'none';

export function compress(tar: Buffer, how: Compress): Buffer {
  if (how === 'gzip') return gzipSync(tar);
  if (how === 'zstd') return execFileSync('zstd', ['-q', '-c', '-3'], { input: tar, maxBuffer: 1 << 30 });
  return tar;
}

export const MEDIA: Record<Compress, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

export function diffIdOf(tar: Buffer): string {
  return `sha256:${createHash('sha256').update(tar).digest('hex')}`;
}

/** A scratch area: `root/outside` is a sentinel sibling of every dest. */
export class Scratch {
  readonly root = mkdtempSync(join(tmpdir(), 'berth-unpack-'));
  private n = 0;

  constructor() {
    mkdirSync(join(this.root, 'outside'));
    writeFileSync(join(this.root, 'outside', 'keep'), 'sentinel');
  }

  /** Write the blob, make an empty dest, return the unpack options. */
  layer(tar: Buffer, how: Compress = 'none', mediaType = MEDIA[how]) {
    const i = this.n++;
    const blobPath = join(this.root, `blob-${i}`);
    writeFileSync(blobPath, compress(tar, how));
    const dest = join(this.root, `dest-${i}`);
    mkdirSync(dest);
    return { blobPath, mediaType, diffId: diffIdOf(tar), dest };
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** All xattrs of a path (hex values), via getfattr without following symlinks. */
export function xattrsOf(path: string): Record<string, string> {
  let out: string;
  try {
    out = execFileSync('getfattr', ['-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', path], { encoding: 'utf8' });
  } catch {
    return {};
  }
  const res: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([^#=][^=]*)=0x([0-9a-f]*)$/.exec(line);
    if (m) res[m[1]!] = m[2]!;
  }
  return res;
}
