/**
 * Bring an image's layers onto the host: download each blob (unless stored) and unpack it into
 * its snapshot (unless made) — up to `maxConcurrentDownloads` layers of one request at a time,
 * each unpacked as soon as it is downloaded. Used by full pulls and by completing a
 * metadata-only image.
 *
 * Deduplication: requests needing the same blob share its download, and the same snapshot its
 * unpack. A layer whose snapshot exists is neither downloaded nor unpacked again. The caller
 * holds leases on the blobs and snapshots until its image record references them.
 */
import type { ContentStore } from '../content/store.js';
import type { RegistryClient, Repository } from '../registry/client.js';
import type { Endpoint } from '../registry/endpoints.js';
import type { SnapshotInfo, SnapshotStore } from '../snapshots/store.js';
import type { LayerRecord } from '../store/image-record.js';
import { limiter } from './limiter.js';
import type { PullProgress } from './progress.js';
import { cancelledError, SingleFlight } from './singleflight.js';

export interface LayerFetcherDeps {
  client: RegistryClient;
  content: ContentStore;
  snapshots: SnapshotStore;
  maxConcurrentDownloads: number;
}

export interface FetchLayers {
  /** Normalised reference, for progress events and errors. */
  name: string;
  repo: Repository;
  /** The endpoint that served the manifest (tried first), if known. */
  endpoint?: Endpoint;
  /** Bottom layer first; each chainId's parent is the previous layer's. */
  layers: LayerRecord[];
  signal: AbortSignal;
  emit: (p: PullProgress) => void;
}

export class LayerFetcher {
  private readonly downloads = new SingleFlight<void, number>();
  private readonly unpacks = new SingleFlight<SnapshotInfo>();

  constructor(private readonly deps: LayerFetcherDeps) {}

  abortAll(): void {
    this.downloads.abortAll();
    this.unpacks.abortAll();
  }

  /** Fetch every layer; the first failure stops the others and is thrown (CANCELLED when `signal` fired). */
  async fetchAll(req: FetchLayers): Promise<void> {
    // Our own controller: the first failing layer stops the others before we let go.
    const local = new AbortController();
    const onAbort = () => local.abort();
    req.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const slot = limiter(this.deps.maxConcurrentDownloads);
      let firstError: { err: unknown } | undefined;
      await Promise.allSettled(
        req.layers.map((_, i) =>
          slot(() => this.layer(req, i, local.signal)).catch((err) => {
            firstError ??= { err };
            local.abort();
          }),
        ),
      );
      if (firstError) throw req.signal.aborted ? cancelledError(req.name) : firstError.err;
    } finally {
      req.signal.removeEventListener('abort', onAbort);
    }
  }

  private async layer(req: FetchLayers, index: number, signal: AbortSignal): Promise<void> {
    const { content, snapshots } = this.deps;
    const { name, emit } = req;
    const l = req.layers[index]!;
    const layer = { index, digest: l.digest, mediaType: l.mediaType };
    if (snapshots.has(l.chainId)) {
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
          const { response } = await this.deps.client.getBlob(req.repo, l.digest, s, req.endpoint);
          await content.ingest(l, response.body, { onProgress: progress, source: response.url });
        },
      );
      emit({ ref: name, phase: 'downloaded', layer, bytesDone: l.size, bytesTotal: l.size });
    }
    emit({ ref: name, phase: 'extracting', layer });
    await this.unpacks.run(l.chainId, { signal }, (s) =>
      snapshots.create({
        chainId: l.chainId,
        parent: index > 0 ? req.layers[index - 1]!.chainId : undefined,
        diffId: l.diffId,
        blobPath: content.path(l.digest),
        mediaType: l.mediaType,
        signal: s,
      }),
    );
    emit({ ref: name, phase: 'extracted', layer });
  }
}
