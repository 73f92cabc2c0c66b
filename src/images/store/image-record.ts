/** What the image store keeps per image (persisted as JSON in `<root>/images.json`). */
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
}
