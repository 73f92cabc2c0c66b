/**
 * PullImage: resolve (resolve.ts), then fetch and unpack every layer — up to
 * `maxConcurrentDownloads` layers at a time, each unpacked as soon as it is downloaded —
 * and store the image record (moving the tag if it named another image).
 *
 * Deduplication: identical concurrent pulls (same reference and credentials) share one
 * flight; different pulls needing the same blob share its download, and the same snapshot
 * its unpack. A layer whose snapshot exists is neither downloaded nor unpacked again.
 */
import type { Logger } from '../../util/log.js';
import { chainIds } from '../chain-id.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor } from '../manifest.js';
import type { Platform } from '../platform.js';
import { formatReference, repoName, type ImageReference } from '../reference.js';
import { createHash } from 'node:crypto';
import { credentialsFor, type AuthConfig } from '../registry/auth/credentials.js';
import type { RegistryClient, Repository } from '../registry/client.js';
import type { RegistryConfig } from '../registry/config.js';
import { registryEndpoints, type Endpoint } from '../registry/endpoints.js';
import type { SnapshotInfo, SnapshotStore } from '../snapshots/store.js';
import type { ImageRecord, LayerRecord } from '../store/image-record.js';
import type { ImageStore } from '../store/image-store.js';
import type { Leases } from './leases.js';
import { limiter } from './limiter.js';
import { throttleDownloads, type PullProgress } from './progress.js';
import { resolveImage, type Resolved } from './resolve.js';
import { cancelledError, SingleFlight, type Caller } from './singleflight.js';

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
}

type Emit = (p: PullProgress) => void;

/** Pulls with different credentials are not merged (one may be refused where another is not). */
function authKey(auth: AuthConfig | undefined): string {
  return auth ? createHash('sha256').update(JSON.stringify(auth)).digest('hex').slice(0, 16) : 'anonymous';
}

export class Puller {
  private readonly pulls = new SingleFlight<ImageRecord, PullProgress>();
  private readonly downloads = new SingleFlight<void, number>();
  private readonly unpacks = new SingleFlight<SnapshotInfo>();

  constructor(private readonly deps: PullerDeps) {}

  /** Pulls in progress (distinct flights). */
  get inFlight(): number {
    return this.pulls.size;
  }

  abortAll(): void {
    this.pulls.abortAll();
    this.downloads.abortAll();
    this.unpacks.abortAll();
  }

  pull(req: PullRequest, caller: Caller<PullProgress>): Promise<ImageRecord> {
    const name = formatReference(req.ref);
    const repo = this.repository(req);
    const key = `${name}\n${authKey(req.auth)}\n${req.pinned ? 1 : 0}`;
    return this.pulls.run(key, caller, (signal, emit) => this.doPull(req, repo, signal, throttleDownloads(emit)));
  }

  private repository(req: PullRequest): Repository {
    const { domain, path } = req.ref;
    const cfg = this.deps.registry;
    return {
      domain,
      path,
      endpoints: registryEndpoints(domain, cfg),
      credentials: (e: Endpoint) => credentialsFor(e, domain, req.auth, cfg.auths),
    };
  }

  private async doPull(req: PullRequest, repo: Repository, signal: AbortSignal, emit: Emit): Promise<ImageRecord> {
    const { deps } = this;
    const name = formatReference(req.ref);
    const started = Date.now();
    const lease = deps.leases.open();
    // Our own controller: the first failing layer stops the others before we let go.
    const local = new AbortController();
    const onAbort = () => local.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      emit({ ref: name, phase: 'resolving' });
      const r = await resolveImage({ client: deps.client, content: deps.content, host: deps.host }, req.ref, repo, lease, local.signal);
      const chains = chainIds(r.parsed.diffIds);
      const layers = r.manifest.doc.layers;
      layers.forEach((l, i) => {
        lease.blob(l.digest);
        lease.snapshot(chains[i]);
      });
      const bytesTotal = layers.reduce((n, l) => n + l.size, 0);
      emit({ ref: name, phase: 'resolved', layerCount: layers.length, bytesTotal });
      const slot = limiter(deps.maxConcurrentDownloads);
      let firstError: { err: unknown } | undefined;
      await Promise.allSettled(
        layers.map((l, i) =>
          slot(() => this.layer(repo, r, l, i, chains, local.signal, emit, name)).catch((err) => {
            firstError ??= { err };
            local.abort();
          }),
        ),
      );
      if (firstError) throw signal.aborted ? cancelledError(name) : firstError.err;
      const record = this.record(req, r, chains);
      const stored = await deps.images.mutate((ix) =>
        ix.add(record, { tag: req.ref.digest ? undefined : name, digestRef: `${repoName(req.ref)}@${r.target.digest}` }),
      );
      emit({ ref: name, phase: 'done', imageId: stored.id, bytesTotal });
      deps.log.info({ ref: name, imageId: stored.id, layers: layers.length, bytes: bytesTotal, ms: Date.now() - started }, 'image pulled');
      return stored;
    } finally {
      signal.removeEventListener('abort', onAbort);
      lease.release();
    }
  }

  private async layer(repo: Repository, r: Resolved, l: Descriptor, index: number, chains: string[], signal: AbortSignal, emit: Emit, name: string): Promise<void> {
    const { content, snapshots } = this.deps;
    const layer = { index, digest: l.digest, mediaType: l.mediaType };
    const chainId = chains[index];
    if (snapshots.has(chainId)) {
      emit({ ref: name, phase: 'exists', layer, bytesDone: l.size, bytesTotal: l.size });
      return;
    }
    if (!content.has(l.digest)) {
      emit({ ref: name, phase: 'downloading', layer, bytesDone: 0, bytesTotal: l.size });
      await this.downloads.run(
        l.digest,
        { signal, onEvent: (n) => emit({ ref: name, phase: 'downloading', layer, bytesDone: n, bytesTotal: l.size }) },
        async (s, progress) => {
          if (content.has(l.digest)) return;
          const { response } = await this.deps.client.getBlob(repo, l.digest, s, r.endpoint);
          await content.ingest(l, response.body, { onProgress: progress, source: response.url });
        },
      );
      emit({ ref: name, phase: 'downloaded', layer, bytesDone: l.size, bytesTotal: l.size });
    }
    emit({ ref: name, phase: 'extracting', layer });
    await this.unpacks.run(chainId, { signal }, (s) =>
      snapshots.create({
        chainId,
        parent: index > 0 ? chains[index - 1] : undefined,
        diffId: r.parsed.diffIds[index],
        blobPath: content.path(l.digest),
        mediaType: l.mediaType,
        signal: s,
      }),
    );
    emit({ ref: name, phase: 'extracted', layer });
  }

  private record(req: PullRequest, r: Resolved, chains: string[]): ImageRecord {
    const doc = r.manifest.doc;
    const layers: LayerRecord[] = doc.layers.map((l, i) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      size: l.size,
      diffId: r.parsed.diffIds[i],
      chainId: chains[i],
    }));
    const targets = r.target.digest === r.manifest.digest ? [r.manifest.digest] : [r.target.digest, r.manifest.digest];
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
      blobs: [...targets, r.config.digest, ...layers.map((l) => l.digest)],
      size,
      pinned: req.pinned ?? false,
      ...(r.parsed.created ? { created: r.parsed.created } : {}),
      pulledAt: new Date().toISOString(),
    };
  }
}
