/**
 * PullImage: resolve (resolve.ts), then fetch and unpack every layer (layer-fetcher.ts) and
 * store the image record (moving the tag if it named another image).
 *
 * A metadata-only pull (`layers: false`, for runtime handlers that pull images in the guest)
 * stops after resolving: the manifest and config are stored, the record says `hostLayers:
 * false`, and no layer is downloaded or unpacked. `complete()` later brings such an image's
 * layers onto the host (a host-pull handler needs them), from the repository it was pulled from.
 *
 * Deduplication: identical concurrent pulls (same reference, credentials and mode) share one
 * flight, and so do concurrent completions of one image; layers are shared as layer-fetcher.ts
 * says.
 */
import type { Logger } from '../../util/log.js';
import { failedPrecondition, notFound } from '../../util/errors.js';
import { chainIds } from '../chain-id.js';
import type { ContentStore } from '../content/store.js';
import type { Platform } from '../platform.js';
import { formatReference, parseReference, repoName, type ImageReference } from '../reference.js';
import { createHash } from 'node:crypto';
import { credentialsFor, type AuthConfig } from '../registry/auth/credentials.js';
import type { RegistryClient, Repository } from '../registry/client.js';
import type { RegistryConfig } from '../registry/config.js';
import { registryEndpoints, type Endpoint } from '../registry/endpoints.js';
import type { SnapshotStore } from '../snapshots/store.js';
import type { ImageRecord, LayerRecord } from '../store/image-record.js';
import type { ImageStore } from '../store/image-store.js';
import { LayerFetcher } from './layer-fetcher.js';
import type { Lease, Leases } from './leases.js';
import { throttleDownloads, type PullProgress } from './progress.js';
import { resolveImage, type Resolved } from './resolve.js';
import { SingleFlight, type Caller } from './singleflight.js';

export interface PullerDeps {
  client: RegistryClient;
  content: ContentStore;
  snapshots: SnapshotStore;
  images: ImageStore;
  leases: Leases;
  registry: RegistryConfig;
  host: Platform;
  maxConcurrentDownloads: number;
  log: Logger;
}

export interface PullRequest {
  ref: ImageReference;
  auth?: AuthConfig;
  pinned?: boolean;
  /** false: metadata only (manifest + config, no layers on the host). Default true. */
  layers?: boolean;
}

type Emit = (p: PullProgress) => void;

/** Pulls with different credentials are not merged (one may be refused where another is not). */
function authKey(auth: AuthConfig | undefined): string {
  return auth ? createHash('sha256').update(JSON.stringify(auth)).digest('hex').slice(0, 16) : 'anonymous';
}

export class Puller {
  private readonly pulls = new SingleFlight<ImageRecord, PullProgress>();
  private readonly completions = new SingleFlight<ImageRecord, PullProgress>();
  private readonly fetcher: LayerFetcher;

  constructor(private readonly deps: PullerDeps) {
    this.fetcher = new LayerFetcher(deps);
  }

  /** Pulls and completions in progress (distinct flights). */
  get inFlight(): number {
    return this.pulls.size + this.completions.size;
  }

  abortAll(): void {
    this.pulls.abortAll();
    this.completions.abortAll();
    this.fetcher.abortAll();
  }

  pull(req: PullRequest, caller: Caller<PullProgress>): Promise<ImageRecord> {
    const name = formatReference(req.ref);
    const repo = this.repository(req.ref, req.auth);
    const key = `${name}\n${authKey(req.auth)}\n${req.pinned ? 1 : 0}\n${req.layers === false ? 'metadata' : 'full'}`;
    return this.pulls.run(key, caller, (signal, emit) => this.doPull(req, repo, signal, throttleDownloads(emit)));
  }

  /**
   * Download and unpack the layers of a metadata-only image, from the repository of its first
   * repo digest (mirrors and configured credentials apply; `auth` as given to its pull).
   * Concurrent completions of one image share one flight. Resolves to the updated record.
   */
  complete(rec: ImageRecord, auth: AuthConfig | undefined, caller: Caller<PullProgress>): Promise<ImageRecord> {
    const source = rec.repoDigests[0];
    if (!source) throw failedPrecondition(`image ${rec.id} has no repository digest to fetch its layers from; pull it again by name`);
    const ref = parseReference(source);
    const repo = this.repository(ref, auth);
    return this.completions.run(rec.id, caller, (signal, emit) => this.doComplete(rec, ref, repo, signal, throttleDownloads(emit)));
  }

  private repository(ref: ImageReference, auth: AuthConfig | undefined): Repository {
    const { domain, path } = ref;
    const cfg = this.deps.registry;
    return {
      domain,
      path,
      endpoints: registryEndpoints(domain, cfg),
      credentials: (e: Endpoint) => credentialsFor(e, domain, auth, cfg.auths),
    };
  }

  private async doPull(req: PullRequest, repo: Repository, signal: AbortSignal, emit: Emit): Promise<ImageRecord> {
    const { deps } = this;
    const name = formatReference(req.ref);
    const withLayers = req.layers !== false;
    const started = Date.now();
    const lease = deps.leases.open();
    try {
      emit({ ref: name, phase: 'resolving' });
      const r = await resolveImage({ client: deps.client, content: deps.content, host: deps.host }, req.ref, repo, lease, signal);
      const layers = layerRecords(r);
      const bytesTotal = layers.reduce((n, l) => n + l.size, 0);
      emit({ ref: name, phase: 'resolved', layerCount: layers.length, bytesTotal });
      if (withLayers) await this.fetchLeased(lease, { name, repo, endpoint: r.endpoint, layers, signal, emit });
      const record = this.record(req, r, layers, withLayers);
      const stored = await deps.images.mutate((ix) =>
        ix.add(record, { tag: req.ref.digest ? undefined : name, digestRef: `${repoName(req.ref)}@${r.target.digest}` }),
      );
      emit({ ref: name, phase: 'done', imageId: stored.id, bytesTotal });
      const what = withLayers ? 'image pulled' : 'image metadata pulled (layers left to the guest)';
      deps.log.info({ ref: name, imageId: stored.id, layers: layers.length, bytes: bytesTotal, ms: Date.now() - started }, what);
      return stored;
    } finally {
      lease.release();
    }
  }

  /** Lease the layers' blobs and snapshots (GC keeps them meanwhile), then download and unpack them. */
  private async fetchLeased(lease: Lease, args: Parameters<LayerFetcher['fetchAll']>[0]): Promise<void> {
    for (const l of args.layers) {
      lease.blob(l.digest);
      lease.snapshot(l.chainId);
    }
    await this.fetcher.fetchAll(args);
  }

  private async doComplete(rec: ImageRecord, ref: ImageReference, repo: Repository, signal: AbortSignal, emit: Emit): Promise<ImageRecord> {
    const { deps } = this;
    const name = formatReference(ref);
    const started = Date.now();
    const lease = deps.leases.open();
    try {
      const bytesTotal = rec.layers.reduce((n, l) => n + l.size, 0);
      emit({ ref: name, phase: 'resolved', layerCount: rec.layers.length, bytesTotal });
      await this.fetchLeased(lease, { name, repo, layers: rec.layers, signal, emit });
      const stored = await deps.images.mutate((ix) => ix.markLayersPresent(rec.id));
      if (!stored) throw notFound(`image ${rec.id} (${name}) was removed while its layers were being fetched`);
      emit({ ref: name, phase: 'done', imageId: stored.id, bytesTotal });
      deps.log.info({ ref: name, imageId: stored.id, layers: rec.layers.length, bytes: bytesTotal, ms: Date.now() - started }, 'image layers completed on the host');
      return stored;
    } finally {
      lease.release();
    }
  }

  private record(req: PullRequest, r: Resolved, layers: LayerRecord[], withLayers: boolean): ImageRecord {
    const targets = r.target.digest === r.manifest.digest ? [r.manifest.digest] : [r.target.digest, r.manifest.digest];
    // The size the registry serves for the image, whether or not the layers came here.
    const size =
      (r.target.digest === r.manifest.digest ? 0 : r.target.size) + r.manifest.size + r.config.size + layers.reduce((n, l) => n + l.size, 0);
    return {
      id: r.config.digest,
      repoTags: [],
      repoDigests: [],
      manifestDigest: r.manifest.digest,
      manifestMediaType: r.manifest.mediaType,
      configMediaType: r.config.mediaType,
      platform: r.platform,
      config: r.parsed.config,
      layers,
      blobs: [...targets, r.config.digest, ...(withLayers ? layers.map((l) => l.digest) : [])],
      size,
      pinned: req.pinned ?? false,
      ...(r.parsed.created ? { created: r.parsed.created } : {}),
      pulledAt: new Date().toISOString(),
      ...(withLayers ? {} : { hostLayers: false as const }),
    };
  }
}

/** The manifest's layers with their diff ids and chain ids, bottom first. */
function layerRecords(r: Resolved): LayerRecord[] {
  const chains = chainIds(r.parsed.diffIds);
  return r.manifest.doc.layers.map((l, i) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    size: l.size,
    diffId: r.parsed.diffIds[i]!,
    chainId: chains[i]!,
  }));
}
