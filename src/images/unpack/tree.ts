/**
 * In-memory model of what this layer has written under dest. dest starts empty and only we
 * write to it, so the model is authoritative: we resolve every path against it instead of
 * lstat-ing the disk, and refuse any path whose parent is not a directory we made (which
 * is what keeps symlinks in the layer from redirecting writes outside dest).
 */

export type NodeKind = 'dir' | 'file' | 'symlink' | 'special';

/** A fifo, device or overlay whiteout not yet on disk (created in one batch at the end). */
export interface SpecialNode {
  type: 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  major: number;
  minor: number;
  mtime: number;
  whiteout: boolean;
}

export interface TreeNode {
  kind: NodeKind;
  /** Children of a directory; null for everything else. */
  children: Map<string, TreeNode> | null;
  /** Apparent bytes this entry adds: file data (0 for a hard link) or symlink target length. */
  size: number;
  /** Directory mode (for the setgid check); 0 for implicit directories we created. */
  mode: number;
  /** mtime (seconds) to set on a directory at the end, if the layer declared the directory. */
  dirMtime: number | null;
  /** trusted.overlay.opaque=y wanted on this directory. */
  opaque: boolean;
  special: SpecialNode | null;
  xattrs: Map<string, Buffer> | null;
}

export function newNode(kind: NodeKind, init: Partial<TreeNode> = {}): TreeNode {
  return {
    kind,
    children: kind === 'dir' ? new Map() : null,
    size: 0,
    mode: 0,
    dirMtime: null,
    opaque: false,
    special: null,
    xattrs: null,
    ...init,
  };
}

export class LayerTree {
  readonly root: TreeNode = newNode('dir');

  /** The node at `components` if it exists and every parent on the way is a directory. */
  get(components: readonly string[]): TreeNode | undefined {
    let node: TreeNode | undefined = this.root;
    for (const name of components) {
      if (node?.kind !== 'dir') return undefined;
      node = node.children!.get(name);
    }
    return node;
  }

  /** Visit every node below the root with its path components (parents before children). */
  walk(visit: (node: TreeNode, components: string[]) => void): void {
    const stack: Array<[TreeNode, string[]]> = [[this.root, []]];
    while (stack.length > 0) {
      const [node, comps] = stack.pop()!;
      if (comps.length > 0) visit(node, comps);
      if (node.children) for (const [name, child] of node.children) stack.push([child, [...comps, name]]);
    }
  }
}

/** Summary of a finished tree: entries and apparent bytes (the UnpackResult). */
export function treeTotals(tree: LayerTree): { inodes: number; bytes: number } {
  let inodes = 0;
  let bytes = 0;
  tree.walk((node) => {
    inodes++;
    bytes += node.size;
  });
  return { inodes, bytes };
}
