/**
 * ImageService: PullImage, ListImages, ImageStatus, RemoveImage, ImageFsInfo.
 *
 * Runtime handlers and pulls. A handler whose backend pulls images in the guest (CoCo) gets a
 * metadata-only pull: manifest and config on the host (USER, ENV, entrypoint for the spec), no
 * layers (the guest pulls them: no double pull). PullImage picks the handler as containerd 2.x
 * does: ImageSpec.runtime_handler (kubelet's RuntimeClassInImageCriApi; an unknown name is
 * INVALID_ARGUMENT); when empty and the request carries the pod's sandbox config, the handler
 * that pod gets — the io.containerd.cri.runtime-handler pod annotation (containerd's older
 * experimental way), else the namespace default of runtimes.policy, else runtimes.default;
 * with neither, an ordinary host pull. An image with only metadata is "present" for every
 * handler: a host-pull handler completes its layers when it creates a container from it.
 */
import {
  Image,
  ImageFsInfoResponse,
  ImageStatusResponse,
  ListImagesResponse,
  PullImageResponse,
  RemoveImageResponse,
  type AuthConfig,
  type ImageSpec,
  type PodSandboxConfig,
} from '../gen/runtime/v1/api.js';
import type { Config } from '../daemon/config.js';
import { hasHostLayers, type ImageInfo, type ImageService } from '../images/index.js';
import { chooseHandler } from '../runtimes/policy/evaluate.js';
import { unknownHandlerMessage } from '../runtimes/registry.js';
import { BerthError, Code, invalidArgument } from '../util/errors.js';
import type { ImageHandlers } from './server.js';

/** Pod annotation containerd reads for the handler of a pull when the request names none. */
export const RUNTIME_HANDLER_ANNOTATION = 'io.containerd.cri.runtime-handler';

/** What the image handlers need to know of the runtime handlers (the HandlerRegistry fits). */
export interface PullHandlerSource {
  names(): string[];
  get(name: string): { imagePull: 'host' | 'guest' } | undefined;
}

export interface PullHandlerChoice {
  /** "" when nothing names a handler. */
  handler: string;
  source: 'request' | 'annotation' | 'namespace' | 'global' | 'none';
  /** Pull metadata only (the handler pulls images in the guest). */
  guest: boolean;
  /** False when a name implied by the pod is not configured (the pull then stays on the host). */
  known: boolean;
}

/** INVALID_ARGUMENT for a runtime handler that is not configured, listing those that are. */
export function unknownHandler(name: string, handlers: PullHandlerSource, rpc: string): BerthError {
  return invalidArgument(`${rpc}: ${unknownHandlerMessage(name, handlers.names(), ' in image.runtime_handler')}`);
}

/** The handler named by an ImageSpec, validated; "" when it names none or handlers are not known. */
function requestedHandler(spec: ImageSpec | undefined, handlers: PullHandlerSource | undefined, rpc: string): string {
  const name = spec?.runtimeHandler?.trim() ?? '';
  if (!name || !handlers) return '';
  if (!handlers.get(name)) throw unknownHandler(name, handlers, rpc);
  return name;
}

/** Which handler a PullImage is for and whether it pulls metadata only (pure; see the header). */
export function choosePullHandler(
  req: { image?: ImageSpec; sandboxConfig?: PodSandboxConfig },
  handlers: PullHandlerSource | undefined,
  runtimes: Pick<Config['runtimes'], 'default' | 'policy'> | undefined,
): PullHandlerChoice {
  const none: PullHandlerChoice = { handler: '', source: 'none', guest: false, known: true };
  if (!handlers) return none;
  const requested = requestedHandler(req.image, handlers, 'PullImage');
  const pod = req.sandboxConfig;
  let handler = requested;
  let source: PullHandlerChoice['source'] = 'request';
  if (!handler && pod) {
    const annotated = pod.annotations?.[RUNTIME_HANDLER_ANNOTATION]?.trim() ?? '';
    if (annotated) [handler, source] = [annotated, 'annotation'];
    else if (runtimes) {
      const c = chooseHandler(runtimes.policy, pod.metadata?.namespace ?? '', '', runtimes.default);
      [handler, source] = [c.handler, c.source === 'namespace' ? 'namespace' : 'global'];
    }
  }
  if (!handler) return none;
  const backend = handlers.get(handler);
  return { handler, source, guest: backend?.imagePull === 'guest', known: !!backend };
}

export function toCriImage(img: ImageInfo, runtimeHandler = ''): Image {
  return Image.fromPartial({
    id: img.id,
    repoTags: img.repoTags,
    repoDigests: img.repoDigests,
    size: BigInt(img.size),
    uid: img.uid !== undefined ? { value: BigInt(img.uid) } : undefined,
    username: img.username ?? '',
    // Answer for the handler asked about, so the caller can tell which one this is for.
    spec: { image: img.id, annotations: {}, runtimeHandler },
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
      hostLayers: hasHostLayers(img),
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
  /**
   * The configured runtime handlers (the daemon's HandlerRegistry). Without them every pull is
   * a host pull and image.runtime_handler is not checked.
   */
  handlers?: PullHandlerSource;
  /** runtimes.default and runtimes.policy: the handler of a pod that names none. */
  runtimes?: Pick<Config['runtimes'], 'default' | 'policy'>;
}

export function imageHandlers(images: ImageService, extra: ImageFsSource = {}): ImageHandlers {
  return {
    async pullImage(req, ctx) {
      const name = requireImageName(req.image, 'PullImage');
      const choice = choosePullHandler({ image: req.image, sandboxConfig: req.sandboxConfig }, extra.handlers, extra.runtimes);
      if (!choice.known) {
        ctx.log.warn({ image: name, handler: choice.handler, from: choice.source }, 'the pod implies a runtime handler that is not configured; pulling on the host');
      }
      const img = await images.pull(name, {
        auth: authOf(req.auth),
        signal: ctx.signal,
        layers: !choice.guest,
        onProgress: (p) => {
          if (p.phase === 'resolved' || p.phase === 'done') ctx.log.debug({ phase: p.phase, layers: p.layerCount, bytes: p.bytesTotal }, 'pull');
        },
      });
      const handler = choice.handler || undefined;
      ctx.log.info({ image: name, id: img.id, handler, from: handler && choice.source, hostLayers: hasHostLayers(img) }, 'image pulled');
      return PullImageResponse.fromPartial({ imageRef: img.id });
    },

    async listImages(req) {
      const filter = req.filter?.image?.image?.trim();
      const handler = requestedHandler(req.filter?.image, extra.handlers, 'ListImages');
      return ListImagesResponse.fromPartial({ images: images.list(filter || undefined).map((i) => toCriImage(i, handler)) });
    },

    async imageStatus(req) {
      const name = requireImageName(req.image, 'ImageStatus');
      const handler = requestedHandler(req.image, extra.handlers, 'ImageStatus');
      const img = images.find(name);
      // CRI: an unknown image is not an error, the response just has no image. A metadata-only
      // image is present for every handler (a host-pull one completes its layers on use).
      if (!img) return ImageStatusResponse.fromPartial({});
      return ImageStatusResponse.fromPartial({ image: toCriImage(img, handler), info: req.verbose ? verboseInfo(img) : {} });
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
