import type { Logger } from '../../util/log.js';
import { FileSink, DEFAULT_LIMITS, type SinkLimits } from './file-sink.js';
import * as fs from 'node:fs';
import { currentUmask, rm } from './fsops.js';
import {
  InvalidEntryError,
  classifyName,
  displayPath,
  normalizeEntryPath,
  xattrDecision,
} from './layer-path.js';
import { createSpecials, type PendingSpecial } from './specials.js';
import type { TarEntry } from './tar-reader.js';
import { LayerTree, newNode, treeTotals, type TreeNode } from './tree.js';
import { OPAQUE_XATTR, applyXattrs, type XattrTarget } from './xattrs.js';

export interface WriterOptions {
  /** Absolute, symlink-free path of the (initially empty) snapshot directory. */
  dest: string;
  /** Mode of dest itself (its setgid bit affects ownership of what we create). */
  destMode: number;
  log: Logger;
  signal?: AbortSignal;
  limits?: SinkLimits;
}

type Body = () => Promise<Buffer | null>;

const SETGID = 0o2000;

/**
 * Applies tar entries to dest the way containerd's overlay snapshotter does: every entry is
 * resolved against the in-memory LayerTree (never through a symlink), whiteouts become
 * overlay whiteouts (char 0:0) and opaque markers trusted.overlay.opaque=y. Regular files
 * stream through FileSink; fifos/devices/whiteouts, xattrs and directory mtimes are applied
 * in batches by finish().
 */
export class LayerWriter {
  private readonly tree = new LayerTree();
  private readonly sink: FileSink;
  private readonly euid = process.geteuid?.() ?? 0;
  private readonly egid = process.getegid?.() ?? 0;
  private readonly umask = currentUmask();
  private readonly skippedXattrs = new Set<string>();

  constructor(private readonly opts: WriterOptions) {
    this.tree.root.mode = opts.destMode & 0o7777;
    this.sink = new FileSink(opts.limits ?? DEFAULT_LIMITS);
  }

  async apply(e: TarEntry, body: Body): Promise<void> {
    this.sink.check();
    const comps = normalizeEntryPath(e.name);
    if (comps.length === 0) return; // "./": the layer root; the snapshot dir keeps its own metadata
    const cls = classifyName(comps);
    if (cls.kind === 'aufs-meta') return;
    if (cls.kind === 'opaque') {
      const dir = cls.dir.length === 0 ? this.tree.root : this.ensureDir(cls.dir, e.name);
      dir.opaque = true;
      return;
    }
    if (cls.kind === 'whiteout') return this.whiteout(cls.target, e);
    if (e.type === 'unknown') {
      this.opts.log.warn({ entry: e.name, typeflag: e.flag }, 'skipping tar entry of unknown type');
      return;
    }
    const parent = this.parentDir(comps, e.name);
    const existing = parent.children!.get(comps[comps.length - 1]!);
    if (e.type === 'dir') return this.directory(parent, comps, existing, e);
    if (e.type === 'hardlink') return this.hardlink(parent, comps, existing, e);
    if (existing) await this.remove(parent, comps, existing);
    switch (e.type) {
      case 'file':
        return this.file(parent, comps, e, body);
      case 'symlink':
        return this.symlink(parent, comps, e);
      default:
        this.add(parent, comps, e, newNode('special', { special: specialOf(e) }));
    }
  }

  /** Wait for file data, then create specials, set xattrs and directory mtimes. */
  async finish(): Promise<{ bytes: number; inodes: number }> {
    await this.sink.settle();
    const specials: PendingSpecial[] = [];
    const opaque: XattrTarget[] = [];
    const attrs: XattrTarget[] = [];
    const dirTimes: Array<[string, number]> = [];
    if (this.tree.root.opaque) opaque.push({ path: '', attrs: new Map([[OPAQUE_XATTR, Buffer.from('y')]]) });
    this.tree.walk((node, comps) => {
      const path = comps.join('/');
      if (node.special) specials.push({ path, node: node.special });
      if (node.opaque) opaque.push({ path, attrs: new Map([[OPAQUE_XATTR, Buffer.from('y')]]) });
      if (node.xattrs) attrs.push({ path, attrs: node.xattrs });
      if (node.dirMtime !== null) dirTimes.push([this.abs(comps), node.dirMtime]);
    });
    const { dest, signal, log } = this.opts;
    await createSpecials(dest, specials, signal);
    await applyXattrs(dest, opaque, { required: true, signal, warn: (m) => log.warn(m) });
    await applyXattrs(dest, attrs, { required: false, signal, warn: (m) => log.warn(m) });
    // Last: creating anything in a directory (tar's mknods included) moves its mtime.
    for (const [p, t] of dirTimes) fs.lutimesSync(p, t, t);
    if (this.skippedXattrs.size > 0) {
      log.warn({ xattrs: [...this.skippedXattrs] }, 'layer xattrs not applied (trusted.* or not valid for the file type)');
    }
    return treeTotals(this.tree);
  }

  /** On failure: let in-flight writes finish so nothing touches dest after we return. */
  async abort(): Promise<void> {
    await this.sink.quiesce();
  }

  private abs(comps: readonly string[]): string {
    return comps.length === 0 ? this.opts.dest : `${this.opts.dest}/${comps.join('/')}`;
  }

  /**
   * The directory that will hold `comps`, creating missing parents (0755, like containerd).
   * Refuses a parent that is a symlink or any other non-directory: nothing is ever written
   * through a link. A same-layer whiteout in the way becomes an opaque directory (the layer
   * deleted the lower path and re-created it, implicitly).
   */
  private parentDir(comps: readonly string[], entry: string): TreeNode {
    let dir = this.tree.root;
    for (let i = 0; i < comps.length - 1; i++) {
      const name = comps[i]!;
      let next = dir.children!.get(name);
      let opaque = false;
      if (next?.special?.whiteout) {
        dir.children!.delete(name); // only in memory so far
        next = undefined;
        opaque = true;
      }
      if (!next) {
        const path = this.abs(comps.slice(0, i + 1));
        const mode = 0o755 | (dir.mode & SETGID);
        fs.mkdirSync(path, 0o755);
        if (this.umask & 0o755 || mode !== 0o755) fs.chmodSync(path, mode);
        next = newNode('dir', { mode, opaque });
        dir.children!.set(name, next);
      } else if (next.kind !== 'dir') {
        const what = next.kind === 'special' ? 'device/fifo' : next.kind;
        const at = JSON.stringify(displayPath(comps.slice(0, i + 1)));
        throw new InvalidEntryError(`entry ${JSON.stringify(entry)} would be written through ${what} ${at}`);
      }
      dir = next;
    }
    return dir;
  }

  /** The directory at `comps`, created (with parents) if missing. */
  private ensureDir(comps: readonly string[], entry: string): TreeNode {
    // parentDir resolves all but the last component, so add a placeholder last component.
    return this.parentDir([...comps, ''], entry);
  }

  private async whiteout(target: string[], e: TarEntry): Promise<void> {
    const parent = this.parentDir(target, e.name);
    const existing = parent.children!.get(target[target.length - 1]!);
    if (existing?.kind === 'dir') {
      // The layer has its own `target`: the whiteout can only hide the lower layers' content.
      existing.opaque = true;
      return;
    }
    if (existing) return; // a same-layer file already hides the lower one
    const special = { type: 'char' as const, mode: 0, uid: e.uid, gid: e.gid, major: 0, minor: 0, mtime: e.mtime, whiteout: true };
    parent.children!.set(target[target.length - 1]!, newNode('special', { special }));
  }

  private async directory(parent: TreeNode, comps: string[], existing: TreeNode | undefined, e: TarEntry): Promise<void> {
    const path = this.abs(comps);
    const want = e.mode & 0o7777;
    let node = existing;
    if (node?.kind === 'dir') {
      // Same path again (or declared after its children): replace the attributes.
      fs.lchownSync(path, e.uid, e.gid);
      if (node.mode !== want) fs.chmodSync(path, want);
    } else {
      // A dir replacing a same-layer whiteout must still hide what the lower layers had.
      const opaque = node?.special?.whiteout === true;
      if (node) await this.remove(parent, comps, node);
      fs.mkdirSync(path, want & 0o777);
      const onDisk = (want & 0o777 & ~this.umask) | (parent.mode & SETGID);
      if (this.needChown(e, parent)) fs.lchownSync(path, e.uid, e.gid);
      if (onDisk !== want) fs.chmodSync(path, want);
      node = newNode('dir', { opaque });
      parent.children!.set(comps[comps.length - 1]!, node);
    }
    node.mode = want;
    node.dirMtime = e.mtime;
    this.keepXattrs(node, e);
  }

  private async file(parent: TreeNode, comps: string[], e: TarEntry, body: Body): Promise<void> {
    const chown = this.needChown(e, parent);
    const want = e.mode & 0o7777;
    const chmodNeeded = (want & 0o777 & ~this.umask) !== want;
    this.add(parent, comps, e, newNode('file', { size: e.size }));
    const owner = chown ? { uid: e.uid, gid: e.gid } : null;
    await this.sink.write(this.abs(comps), { mode: want, owner, chmod: chmodNeeded, mtime: e.mtime }, body);
  }

  private async symlink(parent: TreeNode, comps: string[], e: TarEntry): Promise<void> {
    if (e.linkname === '') throw new InvalidEntryError(`symlink ${JSON.stringify(e.name)} has an empty target`);
    const path = this.abs(comps);
    fs.symlinkSync(e.linkname, path); // target verbatim: it is only ever read inside the container
    if (this.needChown(e, parent)) fs.lchownSync(path, e.uid, e.gid);
    fs.lutimesSync(path, e.mtime, e.mtime);
    this.add(parent, comps, e, newNode('symlink', { size: Buffer.byteLength(e.linkname) }));
  }

  private async hardlink(parent: TreeNode, comps: string[], existing: TreeNode | undefined, e: TarEntry): Promise<void> {
    const target = normalizeEntryPath(e.linkname);
    const shown = `hard link ${JSON.stringify(e.name)} -> ${JSON.stringify(e.linkname)}`;
    const t = target.length > 0 ? this.tree.get(target) : undefined;
    if (!t) throw new InvalidEntryError(`${shown}: the target is not a file extracted earlier in this layer`);
    if (t === existing) throw new InvalidEntryError(`${shown}: links to itself`);
    if (t.kind === 'dir') throw new InvalidEntryError(`${shown}: cannot hard-link a directory`);
    if (existing) {
      await this.remove(parent, comps, existing);
      if (this.tree.get(target) !== t) throw new InvalidEntryError(`${shown}: the target was inside the replaced entry`);
    }
    if (t.special) {
      // Not on disk yet: make an equal node (same type, mode, owner, device numbers).
      this.add(parent, comps, e, newNode('special', { special: { ...t.special } }));
      return;
    }
    fs.linkSync(this.abs(target), this.abs(comps));
    this.add(parent, comps, e, newNode(t.kind, { size: 0 }));
  }

  /** Unlink what a later entry replaces (directories recursively: overwrite semantics). */
  private async remove(parent: TreeNode, comps: string[], node: TreeNode): Promise<void> {
    parent.children!.delete(comps[comps.length - 1]!);
    if (node.kind === 'special') return; // only in memory so far
    const path = this.abs(comps);
    if (node.kind === 'dir') await rm(path, { recursive: true });
    else fs.unlinkSync(path);
  }

  private add(parent: TreeNode, comps: string[], e: TarEntry, node: TreeNode): void {
    parent.children!.set(comps[comps.length - 1]!, node);
    this.keepXattrs(node, e);
  }

  /** Ownership must be set unless it is what creation gives us (our ids, no setgid parent). */
  private needChown(e: TarEntry, parent: TreeNode): boolean {
    return e.uid !== this.euid || e.gid !== this.egid || (parent.mode & SETGID) !== 0;
  }

  private keepXattrs(node: TreeNode, e: TarEntry): void {
    if (!e.xattrs) return;
    const kind = node.kind === 'file' || node.kind === 'dir' || node.kind === 'symlink' ? node.kind : 'other';
    for (const [name, value] of e.xattrs) {
      if (xattrDecision(name, kind) === 'apply') (node.xattrs ??= new Map()).set(name, value);
      else this.skippedXattrs.add(name);
    }
  }
}

function specialOf(e: TarEntry): NonNullable<TreeNode['special']> {
  const type = e.type === 'char' ? 'char' : e.type === 'block' ? 'block' : 'fifo';
  return { type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, major: e.devmajor, minor: e.devminor, mtime: e.mtime, whiteout: false };
}
