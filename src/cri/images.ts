/** ImageService: PullImage, ListImages, ImageStatus, RemoveImage, ImageFsInfo. */
import {
  Image,
  ImageFsInfoResponse,
  ImageStatusResponse,
  ListImagesResponse,
  PullImageResponse,
  RemoveImageResponse,
  type AuthConfig,
} from '../gen/runtime/v1/api.js';
import type { ImageInfo, ImageService } from '../images/index.js';
import { BerthError, Code, invalidArgument } from '../util/errors.js';
import type { ImageHandlers } from './server.js';

export function toCriImage(img: ImageInfo): Image {
  return Image.fromPartial({
    id: img.id,
    repoTags: img.repoTags,
    repoDigests: img.repoDigests,
    size: BigInt(img.size),
    uid: img.uid !== undefined ? { value: BigInt(img.uid) } : undefined,
    username: img.username ?? '',
    spec: { image: img.id, annotations: {} },
    pinned: img.pinned,
  });
}

/** Verbose ImageStatus info: the image config and layout, JSON under "info" as containerd does. */
function verboseInfo(img: ImageInfo): Record<string, string> {
  return {
    info: JSON.stringify({
      id: img.id,
      manifestDigest: img.manifestDigest,
      manifestMediaType: img.manifestMediaType,
      platform: img.platform,
      created: img.created,
      pulledAt: img.pulledAt,
      imageSpec: { config: img.config, rootfs: { type: 'layers', diff_ids: img.layers.map((l) => l.diffId) } },
      chainIds: img.layers.map((l) => l.chainId),
    }),
  };
}

function requireImageName(spec: { image: string } | undefined, rpc: string): string {
  const name = spec?.image?.trim();
  if (!name) throw invalidArgument(`${rpc}: image.image must name an image (reference, digest or id)`);
  return name;
}

function authOf(a: AuthConfig | undefined) {
  if (!a) return undefined;
  const out = {
    username: a.username || undefined,
    password: a.password || undefined,
    auth: a.auth || undefined,
    serverAddress: a.serverAddress || undefined,
    identityToken: a.identityToken || undefined,
    registryToken: a.registryToken || undefined,
  };
  return Object.values(out).some((v) => v !== undefined) ? out : undefined;
}

export interface ImageFsSource {
  /** Usage of the filesystem holding containers' writable layers (same fs by default). */
  containerFs?(): Promise<{ usedBytes: number; inodesUsed: number; mountpoint: string } | undefined>;
}

export function imageHandlers(images: ImageService, extra: ImageFsSource = {}): ImageHandlers {
  return {
    async pullImage(req, ctx) {
      const name = requireImageName(req.image, 'PullImage');
      const img = await images.pull(name, {
        auth: authOf(req.auth),
        signal: ctx.signal,
        onProgress: (p) => {
          if (p.phase === 'resolved' || p.phase === 'done') ctx.log.debug({ phase: p.phase, layers: p.layerCount, bytes: p.bytesTotal }, 'pull');
        },
      });
      ctx.log.info({ image: name, id: img.id }, 'image pulled');
      return PullImageResponse.fromPartial({ imageRef: img.id });
    },

    async listImages(req) {
      const filter = req.filter?.image?.image?.trim();
      return ListImagesResponse.fromPartial({ images: images.list(filter || undefined).map(toCriImage) });
    },

    async imageStatus(req) {
      const name = requireImageName(req.image, 'ImageStatus');
      const img = images.find(name);
      // CRI: an unknown image is not an error, the response just has no image.
      if (!img) return ImageStatusResponse.fromPartial({});
      return ImageStatusResponse.fromPartial({ image: toCriImage(img), info: req.verbose ? verboseInfo(img) : {} });
    },

    async removeImage(req) {
      const name = requireImageName(req.image, 'RemoveImage');
      try {
        await images.remove(name);
      } catch (err) {
        // Removing an image that is already gone succeeds (the kubelet retries removals).
        if (!(err instanceof BerthError && err.code === Code.NOT_FOUND)) throw err;
      }
      return RemoveImageResponse.fromPartial({});
    },

    async imageFsInfo() {
      const u = await images.fsInfo();
      const ts = u.timestampNanos;
      const usage = (mountpoint: string, bytes: number, inodes: number) => ({
        timestamp: ts,
        fsId: { mountpoint },
        usedBytes: { value: BigInt(bytes) },
        inodesUsed: { value: BigInt(inodes) },
      });
      const c = extra.containerFs ? await extra.containerFs() : undefined;
      return ImageFsInfoResponse.fromPartial({
        imageFilesystems: [usage(u.mountpoint, u.usedBytes, u.inodesUsed)],
        containerFilesystems: c ? [usage(c.mountpoint, c.usedBytes, c.inodesUsed)] : [],
      });
    },
  };
}
