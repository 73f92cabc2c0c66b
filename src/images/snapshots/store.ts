/**
 * Layer snapshots for overlayfs: `<root>/snapshots/<chainId hex>/fs` holds one layer's
 * unpacked diff (overlay whiteouts included) and `snapshot.json` its metadata (chain id,
 * parent chain id, diff id, bytes, inodes). A container rootfs is an overlay whose lowerdirs
 * are the `fs` dirs of an image's chain, top first.
 *
 * A snapshot is made by unpacking into `<root>/snapshots/.tmp-*`, writing its metadata there,
 * then renaming the whole dir into place: it either exists complete or not at all. Removal
 * renames to `.trash-*` first, then deletes. Leftovers of both are removed at open.
 */
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { syncDir, writeJsonAtomic } from '../../util/atomic.js';
import { BerthError, errnoCode, internal, resourceExhausted } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { digestHex, isSha256Digest } from '../digest.js';

export interface UnpackFn {
  (opts: { blobPath: string; mediaType: string; diffId: string; dest: string; signal?: AbortSignal }): Promise<{ bytes: number; inodes: number }>;
}

export interface SnapshotInfo {
  chainId: string;
  parent?: string;
  diffId: string;
  /** Apparent size of the unpacked layer (as the unpacker reports it). */
  bytes: number;
  inodes: number;
  createdAt: string;
}

export interface CreateSnapshot {
  chainId: string;
  parent?: string;
  diffId: string;
  blobPath: string;
  mediaType: string;
  signal?: AbortSignal;
}

const META = 'snapshot.json';
/** The snapshot dir, its fs dir and its metadata file. */
const OVERHEAD_INODES = 3;

export class SnapshotStore {
  private readonly snapshots = new Map<string, SnapshotInfo>();
  private readonly deleting = new Map<string, Promise<void>>();

  private constructor(
    readonly dir: string,
    private readonly unpack: UnpackFn,
    private readonly log?: Logger,
  ) {}

  static async open(dir: string, unpack: UnpackFn, log?: Logger): Promise<SnapshotStore> {
    const s = new SnapshotStore(dir, unpack, log);
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      const p = join(dir, name);
      if (!/^[a-f0-9]{64}$/.test(name)) {
        await rm(p, { recursive: true, force: true });
        continue;
      }
      try {
        const info = JSON.parse(await readFile(join(p, META), 'utf8')) as SnapshotInfo;
        if (info.chainId !== `sha256:${name}` || !isSha256Digest(info.diffId)) throw new Error('metadata does not match its directory');
        s.snapshots.set(info.chainId, info);
      } catch (err) {
        log?.warn({ snapshot: name, err }, 'removing snapshot with unreadable metadata');
        await rm(p, { recursive: true, force: true });
      }
    }
    return s;
  }

  has(chainId: string): boolean {
    return this.snapshots.has(chainId);
  }

  get(chainId: string): SnapshotInfo | undefined {
    return this.snapshots.get(chainId);
  }

  list(): SnapshotInfo[] {
    return [...this.snapshots.values()];
  }

  /** The directory to use as an overlay lowerdir. */
  fsPath(chainId: string): string {
    return join(this.dir, digestHex(chainId), 'fs');
  }

  usage(): { bytes: number; inodes: number } {
    let bytes = 0;
    let inodes = 0;
    for (const s of this.snapshots.values()) {
      bytes += s.bytes;
      inodes += s.inodes + OVERHEAD_INODES;
    }
    return { bytes, inodes };
  }

  /** Unpack a layer blob into a new snapshot (no-op when it exists). */
  async create(req: CreateSnapshot): Promise<SnapshotInfo> {
    await this.deleting.get(req.chainId);
    const existing = this.snapshots.get(req.chainId);
    if (existing) return existing;
    const hex = digestHex(req.chainId);
    const tmp = join(this.dir, `.tmp-${hex.slice(0, 12)}-${randomBytes(6).toString('hex')}`);
    const final = join(this.dir, hex);
    try {
      await mkdir(join(tmp, 'fs'), { recursive: true });
      const r = await this.unpack({ blobPath: req.blobPath, mediaType: req.mediaType, diffId: req.diffId, dest: join(tmp, 'fs'), signal: req.signal });
      const info: SnapshotInfo = {
        chainId: req.chainId,
        ...(req.parent ? { parent: req.parent } : {}),
        diffId: req.diffId,
        bytes: r.bytes,
        inodes: r.inodes,
        createdAt: new Date().toISOString(),
      };
      await writeJsonAtomic(join(tmp, META), info);
      try {
        await rename(tmp, final);
      } catch (err) {
        const code = errnoCode(err);
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Made meanwhile by someone else (only possible across processes): keep theirs.
        await rm(tmp, { recursive: true, force: true });
        const theirs = JSON.parse(await readFile(join(final, META), 'utf8')) as SnapshotInfo;
        this.snapshots.set(req.chainId, theirs);
        return theirs;
      }
      await syncDir(this.dir);
      this.snapshots.set(req.chainId, info);
      return info;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true }).catch((e) => this.log?.warn({ err: e, tmp }, 'cannot remove temp snapshot'));
      if (err instanceof BerthError) throw err;
      const code = errnoCode(err);
      if (code === 'ENOSPC' || code === 'EDQUOT') throw resourceExhausted(`no space left to unpack layer ${req.diffId}`, err);
      throw internal(`cannot unpack layer ${req.diffId} into snapshot ${req.chainId}: ${(err as Error).message}`, err);
    }
  }

  async remove(chainId: string): Promise<void> {
    if (!this.snapshots.has(chainId) || this.deleting.has(chainId)) return this.deleting.get(chainId);
    this.snapshots.delete(chainId);
    const hex = digestHex(chainId);
    const trash = join(this.dir, `.trash-${hex.slice(0, 12)}-${randomBytes(6).toString('hex')}`);
    const p = (async () => {
      await rename(join(this.dir, hex), trash);
      await rm(trash, { recursive: true, force: true });
    })().finally(() => this.deleting.delete(chainId));
    this.deleting.set(chainId, p);
    return p;
  }
}
