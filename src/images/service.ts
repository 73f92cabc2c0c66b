/**
 * The image service: what the CRI ImageService handlers (and the CLI) call.
 *
 *   const images = await ImageService.open({ root: '/var/lib/berth/images', registry: config.registry });
 *   await images.pull('busybox', { auth, onProgress, signal });  // → ImageInfo
 *   await images.pull('busybox', { layers: false });  // metadata only (guest pull): no layers here
 *   await images.completeLayers('busybox');            // bring a metadata-only image's layers here
 *   images.find('busybox') / images.list() / await images.remove('sha256:…')
 *   images.snapshotChain(imageId)   // overlay lowerdirs, top first
 *   await images.fsInfo()           // ImageFsInfo
 *
 * On disk under `root`: content/ (blobs), snapshots/ (unpacked layers), images.json.
 * Errors are BerthErrors with the status CRI should return (see each method).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { failedPrecondition, notFound } from '../util/errors.js';
import { logger as makeLogger, type Logger } from '../util/log.js';
import { ContentStore } from './content/store.js';
import { planGc } from './gc.js';
import { hostPlatform, type Platform } from './platform.js';
import { Leases } from './pull/leases.js';
import type { PullProgress } from './pull/progress.js';
import { Puller } from './pull/puller.js';
import { parseReference } from './reference.js';
import { Authorizer } from './registry/auth/authorizer.js';
import type { AuthConfig } from './registry/auth/credentials.js';
import { RegistryClient } from './registry/client.js';
import type { RegistryConfig } from './registry/config.js';
import { HttpTransport } from './registry/http.js';
import { SnapshotStore, type UnpackFn } from './snapshots/store.js';
import type { RemoveOutcome } from './store/image-index.js';
import { hasHostLayers, type ImageRecord } from './store/image-record.js';
import { ImageStore } from './store/image-store.js';
import { unpackLayer } from './unpack/index.js';
import { fsMountpoint } from './usage.js';
import { imageUser, type ImageUser } from './user.js';

export interface ImageServiceOptions {
  /** Directory for content/, snapshots/ and images.json. */
  root: string;
  registry: RegistryConfig;
  /** Layer unpacker (default: ./unpack's unpackLayer). */
  unpack?: UnpackFn;
  /** Platform to pull for (default: this host's). */
  platform?: Platform;
  /**
   * Chain ids (snapshots) in use outside the image store — containers' rootfs layers — which
   * GC must keep even after their image is removed. Called at every GC.
   */
  gcRoots?: () => Iterable<string> | Promise<Iterable<string>>;
  /** Collect garbage right after opening (default true). */
  gcOnOpen?: boolean;
  logger?: Logger;
}

/** An image record plus the CRI user fields (uid when USER is numeric, else username). */
export type ImageInfo = ImageRecord & ImageUser;

export interface PullOptions {
  auth?: AuthConfig;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
  /** Mark the image pinned (kubelet never garbage-collects pinned images, e.g. the sandbox image). */
  pinned?: boolean;
  /**
   * false: metadata only, for runtime handlers that pull images inside the guest — resolve the
   * reference (mirrors, auth, platform), store the manifest and config, record the image with
   * `hostLayers: false`, download and unpack nothing. Default true (a full pull, which also
   * completes an image whose metadata alone was here).
   */
  layers?: boolean;
}

export interface CompleteOptions {
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
}

/** Credentials remembered (in memory only) per metadata-only image, for completing it later. */
const REMEMBERED_AUTHS = 256;

export interface FsUsage {
  /** Mount point of the filesystem holding the image store. */
  mountpoint: string;
  usedBytes: number;
  inodesUsed: number;
  timestampNanos: bigint;
}

export interface GcResult {
  blobs: string[];
  snapshots: string[];
}

const DIR_INODES = 6; // content, blobs, sha256, ingest, snapshots, root

/** A finished pull: layer bytes downloaded (present layers count nothing), wall time, outcome. */
export interface PullDone {
  ref: string;
  bytes: number;
  durationMs: number;
  ok: boolean;
}

export class ImageService {
  private gcChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly pullObservers = new Set<(p: PullDone) => void>();
  /** Image id → the credentials its metadata-only pull was given (never written to disk). */
  private readonly guestAuths = new Map<string, AuthConfig>();

  private constructor(
    private readonly opts: ImageServiceOptions,
    readonly content: ContentStore,
    readonly snapshots: SnapshotStore,
    private readonly store: ImageStore,
    private readonly puller: Puller,
    private readonly transport: HttpTransport,
    private readonly leases: Leases,
    private readonly mountpoint: string,
    private readonly log: Logger,
  ) {}

  static async open(opts: ImageServiceOptions): Promise<ImageService> {
    const log = opts.logger ?? makeLogger('images');
    await mkdir(opts.root, { recursive: true });
    const content = await ContentStore.open(join(opts.root, 'content'));
    const snapshots = await SnapshotStore.open(join(opts.root, 'snapshots'), opts.unpack ?? unpackLayer, log);
    const store = await ImageStore.open(join(opts.root, 'images.json'), log);
    const timeoutMs = (opts.registry.requestTimeoutSeconds ?? 30) * 1000;
    const transport = new HttpTransport();
    const authorizer = new Authorizer({ transport, timeoutMs, insecure: opts.registry.insecure });
    const client = new RegistryClient({ transport, authorizer, timeoutMs, idleTimeoutMs: timeoutMs });
    const leases = new Leases();
    const puller = new Puller({
      client,
      content,
      snapshots,
      images: store,
      leases,
      registry: opts.registry,
      host: opts.platform ?? hostPlatform(),
      maxConcurrentDownloads: opts.registry.maxConcurrentDownloads ?? 3,
      log,
    });
    const svc = new ImageService(opts, content, snapshots, store, puller, transport, leases, await fsMountpoint(opts.root), log);
    if (opts.gcOnOpen ?? true) await svc.gc();
    return svc;
  }

  /**
   * Pull `ref` (normalised like Docker). INVALID_ARGUMENT for a malformed reference;
   * NOT_FOUND, UNAUTHENTICATED, PERMISSION_DENIED, UNAVAILABLE, DATA_LOSS,
   * RESOURCE_EXHAUSTED, FAILED_PRECONDITION or CANCELLED otherwise (messages name the
   * reference, blob and endpoints). A failed pull leaves no temp files and no new unreferenced
   * content behind.
   */
  async pull(ref: string, opts: PullOptions = {}): Promise<ImageInfo> {
    const parsed = parseReference(ref);
    const rec = await this.tracked(ref, 'pull', opts, (onEvent) =>
      this.puller.pull({ ref: parsed, auth: opts.auth, pinned: opts.pinned, layers: opts.layers ?? true }, { onEvent, signal: opts.signal }),
    );
    this.rememberAuth(rec, opts.auth);
    return withUser(rec);
  }

  /**
   * Bring the layers of an image that has only its metadata here (pulled for a guest-pull
   * handler) onto the host: download and unpack them from the repository it was pulled from,
   * with the credentials of that pull (remembered in memory) or the configured ones. Returns
   * the image at once when its layers are already here. Errors as for pull (NOT_FOUND also when
   * the image is unknown); a failure leaves no temp files and no unreferenced content.
   */
  async completeLayers(refOrId: string, opts: CompleteOptions = {}): Promise<ImageInfo> {
    const img = this.get(refOrId);
    if (hasHostLayers(img)) return img;
    const ref = img.repoTags[0] ?? img.repoDigests[0] ?? img.id;
    const rec = await this.tracked(ref, 'layer completion', opts, (onEvent) => this.puller.complete(img, this.guestAuths.get(img.id), { onEvent, signal: opts.signal }));
    this.guestAuths.delete(img.id);
    return withUser(rec);
  }

  /**
   * Run a download: count the layer bytes it fetches, tell the pull observers how it went,
   * and collect garbage after a failure (so it leaves no unreferenced content). The image as
   * the index has it now.
   */
  private async tracked(ref: string, what: string, opts: CompleteOptions, run: (onEvent: (p: PullProgress) => void) => Promise<ImageRecord>): Promise<ImageRecord> {
    const started = Date.now();
    let bytes = 0;
    let ok = false;
    const onEvent = (p: PullProgress) => {
      if (p.phase === 'downloaded') bytes += p.bytesTotal ?? 0;
      opts.onProgress?.(p);
    };
    try {
      const rec = await run(onEvent);
      ok = true;
      return this.store.index.get(rec.id) ?? rec;
    } catch (err) {
      await this.gc().catch((e) => this.log.warn({ err: e }, `gc after failed ${what} failed`));
      throw err;
    } finally {
      this.notifyPull({ ref, bytes, durationMs: Date.now() - started, ok });
    }
  }

  private rememberAuth(img: ImageRecord, auth: AuthConfig | undefined): void {
    if (hasHostLayers(img) || !auth) {
      this.guestAuths.delete(img.id);
      return;
    }
    this.guestAuths.delete(img.id);
    this.guestAuths.set(img.id, auth);
    for (const oldest of this.guestAuths.keys()) {
      if (this.guestAuths.size <= REMEMBERED_AUTHS) break;
      this.guestAuths.delete(oldest);
    }
  }

  private notifyPull(done: PullDone): void {
    for (const o of this.pullObservers) {
      try {
        o(done);
      } catch {
        /* observers must not break pulls */
      }
    }
  }

  /** Hear about every finished pull (SLI metrics: bytes downloaded, time, outcome). Returns an unsubscribe function. */
  observePulls(fn: (p: PullDone) => void): () => void {
    this.pullObservers.add(fn);
    return () => this.pullObservers.delete(fn);
  }

  /** All images, or those `filter` names (exact tag, digest reference, id or id prefix). */
  list(filter?: string): ImageInfo[] {
    if (filter) {
      const img = this.store.index.resolve(filter);
      return img ? [withUser(img)] : [];
    }
    return this.store.index.all().map(withUser);
  }

  /** The image `refOrId` names (reference, image id, or unique id prefix), or undefined. */
  find(refOrId: string): ImageInfo | undefined {
    const img = this.store.index.resolve(refOrId);
    return img ? withUser(img) : undefined;
  }

  /** Like find, but NOT_FOUND when there is no such image. */
  get(refOrId: string): ImageInfo {
    const img = this.find(refOrId);
    if (!img) throw notFound(`image ${JSON.stringify(refOrId)} not found`);
    return img;
  }

  /**
   * Remove a tag (when the image has other tags) or the whole image (by id, digest reference
   * or its last tag), then collect garbage. NOT_FOUND when nothing matches (CRI RemoveImage
   * should treat that as success).
   */
  async remove(refOrId: string): Promise<RemoveOutcome> {
    const out = await this.store.mutate((ix) => ix.remove(refOrId));
    if (!out) throw notFound(`image ${JSON.stringify(refOrId)} not found`);
    if (out.imageRemoved) this.guestAuths.delete(out.imageId);
    this.log.info({ image: refOrId, ...out }, out.imageRemoved ? 'image removed' : 'image tag removed');
    if (out.imageRemoved) await this.gc();
    return out;
  }

  async setPinned(refOrId: string, pinned: boolean): Promise<ImageInfo> {
    const img = this.get(refOrId);
    const next = await this.store.mutate((ix) => ix.setPinned(img.id, pinned));
    return withUser(next ?? img);
  }

  /** The image's full config document (OCI image-spec JSON), e.g. for verbose ImageStatus. */
  async imageSpec(refOrId: string): Promise<unknown> {
    const img = this.get(refOrId);
    return JSON.parse((await this.content.read(img.id)).toString('utf8'));
  }

  /** Chain ids of an image's layers, bottom first. NOT_FOUND for an unknown image. */
  chainIds(refOrId: string): string[] {
    return this.get(refOrId).layers.map((l) => l.chainId);
  }

  /**
   * The overlay lowerdirs of an image's rootfs, top layer first. NOT_FOUND for an unknown image;
   * FAILED_PRECONDITION for one whose layers are not on this host (see completeLayers).
   */
  snapshotChain(refOrId: string): string[] {
    const img = this.get(refOrId);
    if (!hasHostLayers(img)) {
      const name = img.repoTags[0] ?? img.repoDigests[0] ?? img.id;
      throw failedPrecondition(
        `image ${name} has only its metadata on this host (it was pulled for a runtime handler that pulls images in the guest); complete it with \`crictl pull ${name}\``,
      );
    }
    return this.snapshotPaths(img.layers.map((l) => l.chainId));
  }

  /** Overlay lowerdirs for a chain of snapshots given bottom first (as recorded): top first. */
  snapshotPaths(chainIds: readonly string[]): string[] {
    return [...chainIds].reverse().map((c) => this.snapshots.fsPath(c));
  }

  /** Bytes and inodes used by content + snapshots (kept up to date in memory, no walk). */
  async fsInfo(): Promise<FsUsage> {
    const c = this.content.usage();
    const s = this.snapshots.usage();
    return {
      mountpoint: this.mountpoint,
      usedBytes: c.bytes + s.bytes,
      inodesUsed: c.inodes + s.inodes + DIR_INODES + 1,
      timestampNanos: BigInt(Date.now()) * 1_000_000n,
    };
  }

  /** Delete blobs and snapshots nothing references (serialised with other GC runs). */
  gc(): Promise<GcResult> {
    const run = this.gcChain.then(() => this.collect());
    this.gcChain = run.catch(() => {});
    return run;
  }

  private async collect(): Promise<GcResult> {
    const roots = this.opts.gcRoots ? [...(await this.opts.gcRoots())] : [];
    const plan = planGc({
      images: this.store.index.all(),
      blobs: this.content.list(),
      snapshots: this.snapshots.list(),
      extraChainIds: roots,
      leasedBlobs: this.leases.leasedBlobs(),
      leasedSnapshots: this.leases.leasedSnapshots(),
    });
    const done: GcResult = { blobs: [], snapshots: [] };
    // Leases are re-checked right before each delete: a pull may have started meanwhile.
    for (const b of plan.blobs) {
      if (this.leases.leasedBlobs().has(b)) continue;
      await this.content.delete(b);
      done.blobs.push(b);
    }
    for (const s of plan.snapshots) {
      if (this.leases.leasedSnapshots().has(s)) continue;
      await this.snapshots.remove(s);
      done.snapshots.push(s);
    }
    if (done.blobs.length || done.snapshots.length) this.log.info({ blobs: done.blobs.length, snapshots: done.snapshots.length }, 'garbage collected');
    return done;
  }

  /** Abort pulls in progress and drop idle connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.puller.abortAll();
    await this.gcChain;
    this.transport.close();
  }
}

function withUser(r: ImageRecord): ImageInfo {
  return { ...r, ...imageUser(r.config.User) };
}
