/**
 * What the image store keeps per image (persisted as JSON in `<root>/images.json`).
 *
 * An image pulled for a guest-pull runtime handler (CoCo) has only its metadata on the host:
 * index/manifest and config blobs, `layers` as the manifest lists them, but no layer blobs and
 * no snapshots (`hostLayers: false`). Records without the field (every file written before it
 * existed) are full images.
 */
import type { ImageConfig } from '../manifest.js';
import type { Platform } from '../platform.js';

export interface LayerRecord {
  /** Compressed blob digest, media type and size (as in the manifest). */
  digest: string;
  mediaType: string;
  size: number;
  diffId: string;
  /** Snapshot of layers 0..this one. */
  chainId: string;
}

export interface ImageRecord {
  /** Image id = config digest. */
  id: string;
  /** e.g. "docker.io/library/busybox:latest" */
  repoTags: string[];
  /** e.g. "docker.io/library/busybox@sha256:<digest of what the tag resolved to>" */
  repoDigests: string[];
  manifestDigest: string;
  manifestMediaType: string;
  configMediaType: string;
  platform: Platform;
  config: ImageConfig;
  /** Bottom layer first. */
  layers: LayerRecord[];
  /** Every blob this image keeps alive: indexes it was pulled through, manifest, config, layers. */
  blobs: string[];
  /** Bytes as containerd reports them: pulled target + manifest + config + compressed layers. */
  size: number;
  pinned: boolean;
  /** The config's `created`, if any. */
  created?: string;
  /** When this image was last pulled (ISO 8601). */
  pulledAt: string;
  /**
   * false: metadata only — the layers were not downloaded or unpacked on this host (the image
   * is pulled inside a guest). Absent: the layers are here (blobs listed, snapshots made).
   */
  hostLayers?: false;
}

/** Are the image's layers on this host (snapshots for a rootfs)? Old records: yes. */
export function hasHostLayers(r: Pick<ImageRecord, 'hostLayers'>): boolean {
  return r.hostLayers !== false;
}
