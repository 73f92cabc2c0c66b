/**
 * In-memory image metadata and its rules (pure; persisted by image-store.ts):
 *  - lookup by image id (`sha256:<hex>`), by reference (tag or digest, normalised like
 *    Docker: "busybox" finds "docker.io/library/busybox:latest"), or by unique id prefix
 *    (at least 4 hex digits, with or without "sha256:") — what CRI ImageStatus may be given;
 *  - a tag names one image: pulling a tag onto a new image moves it from the old one (which
 *    keeps its repo digests, as in containerd);
 *  - removing a tag of an image that has other tags removes just that tag; removing by id,
 *    by digest reference, or the image's last tag removes the image;
 *  - an image's host layers are never lost by a later metadata-only pull of it: a record is
 *    metadata-only (`hostLayers: false`) only while no pull of it has brought the layers.
 */
import { invalidArgument } from '../../util/errors.js';
import { formatReference, tryParseReference } from '../reference.js';
import { hasHostLayers, type ImageRecord } from './image-record.js';

const FULL_ID = /^sha256:[a-f0-9]{64}$/;
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{4,64})$/;

export interface RemoveOutcome {
  imageId: string;
  /** True when the whole image went away (else only `removedRefs`). */
  imageRemoved: boolean;
  removedRefs: string[];
}

const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

export class ImageIndex {
  private readonly images = new Map<string, ImageRecord>();

  constructor(records: Iterable<ImageRecord> = []) {
    for (const r of records) this.images.set(r.id, r);
  }

  all(): ImageRecord[] {
    return [...this.images.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.images.get(id);
  }

  /** The image `refOrId` names, or undefined. INVALID_ARGUMENT when an id prefix is ambiguous. */
  resolve(refOrId: string): ImageRecord | undefined {
    if (FULL_ID.test(refOrId)) return this.images.get(refOrId);
    const ref = tryParseReference(refOrId);
    if (ref) {
      const name = formatReference(ref);
      for (const img of this.images.values()) {
        if (img.repoTags.includes(name) || img.repoDigests.includes(name)) return img;
      }
    }
    const m = ID_PREFIX.exec(refOrId);
    if (!m) return undefined;
    const hits = [...this.images.keys()].filter((id) => id.startsWith(`sha256:${m[1]}`));
    if (hits.length > 1) throw invalidArgument(`image id prefix ${JSON.stringify(refOrId)} is ambiguous (matches ${hits.length} images)`);
    return hits.length === 1 ? this.images.get(hits[0]) : undefined;
  }

  /**
   * Record a pulled image named by `tag` (optional) and `digestRef`. The tag and digest move
   * off any other image; an existing record of the same id gains the names.
   */
  add(record: ImageRecord, names: { tag?: string; digestRef: string }): ImageRecord {
    const names_ = [names.tag, names.digestRef].filter((n): n is string => !!n);
    for (const other of this.images.values()) {
      if (other.id === record.id) continue;
      const repoTags = other.repoTags.filter((t) => !names_.includes(t));
      const repoDigests = other.repoDigests.filter((d) => !names_.includes(d));
      if (repoTags.length !== other.repoTags.length || repoDigests.length !== other.repoDigests.length) {
        if (repoTags.length === 0 && repoDigests.length === 0) this.images.delete(other.id);
        else this.images.set(other.id, { ...other, repoTags, repoDigests });
      }
    }
    const existing = this.images.get(record.id);
    const merged: ImageRecord = {
      ...record,
      repoTags: union(existing?.repoTags ?? [], names.tag ? [names.tag] : []),
      repoDigests: union(existing?.repoDigests ?? [], [names.digestRef]),
      blobs: union(existing?.blobs ?? [], record.blobs),
      pinned: (existing?.pinned ?? false) || record.pinned,
    };
    if (hasHostLayers(record) || (existing && hasHostLayers(existing))) delete merged.hostLayers;
    this.images.set(record.id, merged);
    return merged;
  }

  /**
   * The layers of a metadata-only image are now on the host (blobs stored, snapshots made):
   * keep them referenced and drop the flag. Undefined when the image is gone.
   */
  markLayersPresent(id: string): ImageRecord | undefined {
    const img = this.images.get(id);
    if (!img) return undefined;
    const next: ImageRecord = { ...img, blobs: union(img.blobs, img.layers.map((l) => l.digest)) };
    delete next.hostLayers;
    this.images.set(id, next);
    return next;
  }

  /** Remove what `refOrId` names (see the header for the rules); undefined when nothing matches. */
  remove(refOrId: string): RemoveOutcome | undefined {
    const img = this.resolve(refOrId);
    if (!img) return undefined;
    const ref = FULL_ID.test(refOrId) ? undefined : tryParseReference(refOrId);
    const name = ref && !ref.digest ? formatReference(ref) : undefined;
    if (name && img.repoTags.includes(name) && img.repoTags.length > 1) {
      this.images.set(img.id, { ...img, repoTags: img.repoTags.filter((t) => t !== name) });
      return { imageId: img.id, imageRemoved: false, removedRefs: [name] };
    }
    this.images.delete(img.id);
    return { imageId: img.id, imageRemoved: true, removedRefs: [...img.repoTags, ...img.repoDigests] };
  }

  setPinned(id: string, pinned: boolean): ImageRecord | undefined {
    const img = this.images.get(id);
    if (!img) return undefined;
    const next = { ...img, pinned };
    this.images.set(id, next);
    return next;
  }
}
