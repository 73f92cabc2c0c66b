/**
 * Pure decisions about entry names in a layer: normalisation inside the layer root,
 * whiteout classification (OCI image-spec layer.md), and which xattrs we apply.
 */

export const WHITEOUT_PREFIX = '.wh.';
export const WHITEOUT_META_PREFIX = '.wh..wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

/** An entry name that would leave the layer root, or is otherwise unusable. */
export class InvalidEntryError extends Error {
  override name = 'InvalidEntryError';
}

/**
 * Split an archive path into clean components relative to the layer root. Leading "/" is
 * dropped (absolute names are re-rooted), "." and empty components vanish, ".." pops a
 * component and is refused when it would climb above the root. Returns [] for the root.
 */
export function normalizeEntryPath(name: string): string[] {
  if (name.includes('\0')) throw new InvalidEntryError(`entry name ${JSON.stringify(name)} contains a NUL byte`);
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new InvalidEntryError(`entry ${JSON.stringify(name)} escapes the layer root`);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

export type NameClass =
  | { kind: 'normal' }
  /** `.wh..wh..opq`: the parent directory hides everything below it in lower layers. */
  | { kind: 'opaque'; dir: string[] }
  /** `.wh.<name>`: `<name>` in the parent is deleted from lower layers. */
  | { kind: 'whiteout'; target: string[] }
  /** Other `.wh..wh.*` names and anything below them: aufs bookkeeping, skipped. */
  | { kind: 'aufs-meta' };

/** Classify a normalised, non-root entry path. */
export function classifyName(components: readonly string[]): NameClass {
  const base = components[components.length - 1]!;
  // Anything inside an aufs metadata directory (e.g. `.wh..wh.plnk/<inode>`) is bookkeeping too.
  for (let i = 0; i < components.length - 1; i++) {
    if (components[i]!.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'aufs-meta' };
  }
  if (!base.startsWith(WHITEOUT_PREFIX)) return { kind: 'normal' };
  const parent = components.slice(0, -1);
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir: parent };
  if (base.startsWith(WHITEOUT_META_PREFIX)) return { kind: 'aufs-meta' };
  const target = base.slice(WHITEOUT_PREFIX.length);
  if (target === '' || target === '.' || target === '..') {
    throw new InvalidEntryError(`invalid whiteout name ${JSON.stringify(components.join('/'))}`);
  }
  return { kind: 'whiteout', target: [...parent, target] };
}

export type XattrDecision = 'apply' | 'skip';

/**
 * Which PAX xattrs we write. `trusted.*` is never taken from an archive: trusted.overlay.*
 * steers overlayfs (opaque, redirect, metacopy) and a layer must not forge it; that is
 * also containerd's rule. user.* exists only on regular files and directories.
 * Other namespaces than security/user/system.posix_acl_* are not settable on Linux.
 */
export function xattrDecision(name: string, nodeType: 'file' | 'dir' | 'symlink' | 'other'): XattrDecision {
  if (name.startsWith('security.')) return 'apply';
  if (name === 'system.posix_acl_access') return nodeType === 'symlink' ? 'skip' : 'apply';
  if (name === 'system.posix_acl_default') return nodeType === 'dir' ? 'apply' : 'skip';
  if (name.startsWith('user.')) return nodeType === 'file' || nodeType === 'dir' ? 'apply' : 'skip';
  return 'skip';
}

export function displayPath(components: readonly string[]): string {
  return components.length === 0 ? '/' : components.join('/');
}
