/**
 * Garbage collection decisions (pure): which blobs and snapshots nothing needs any more.
 * Kept: every blob an image lists; every layer blob and snapshot of an image whose layers are
 * on the host; snapshots named by extra roots (containers' rootfs chains, which outlive image
 * removal); the parents of anything kept; and whatever running pulls hold leases on.
 * A metadata-only image (pulled for a guest) keeps just the blobs it lists (index, manifest,
 * config): it has no layer blobs or snapshots, and holds none that other images left behind.
 */
import { hasHostLayers, type ImageRecord } from './store/image-record.js';

export interface GcInput {
  images: Iterable<ImageRecord>;
  blobs: Iterable<string>;
  snapshots: Iterable<{ chainId: string; parent?: string }>;
  /** Chain ids in use outside the image store (e.g. by containers). */
  extraChainIds?: Iterable<string>;
  leasedBlobs?: ReadonlySet<string>;
  leasedSnapshots?: ReadonlySet<string>;
}

export interface GcPlan {
  blobs: string[];
  snapshots: string[];
}

export function planGc(input: GcInput): GcPlan {
  const keepBlobs = new Set<string>(input.leasedBlobs ?? []);
  const keepSnaps = new Set<string>(input.leasedSnapshots ?? []);
  for (const img of input.images) {
    for (const b of img.blobs) keepBlobs.add(b);
    if (!hasHostLayers(img)) continue;
    for (const l of img.layers) {
      keepBlobs.add(l.digest);
      keepSnaps.add(l.chainId);
    }
  }
  for (const c of input.extraChainIds ?? []) keepSnaps.add(c);
  const parents = new Map<string, string | undefined>();
  const present: string[] = [];
  for (const s of input.snapshots) {
    parents.set(s.chainId, s.parent);
    present.push(s.chainId);
  }
  for (const c of [...keepSnaps]) {
    for (let p = parents.get(c); p && !keepSnaps.has(p); p = parents.get(p)) keepSnaps.add(p);
  }
  return {
    blobs: [...input.blobs].filter((b) => !keepBlobs.has(b)),
    snapshots: present.filter((s) => !keepSnaps.has(s)),
  };
}
