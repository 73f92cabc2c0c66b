/**
 * CreateContainer: validate against the pod and the image store, reserve the name, and lay
 * down the writable layer and the bundle (config.json). Nothing runs yet: the shim task is
 * created at StartContainer, as containerd does.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerConfig, NamespaceMode, Signal } from '../../gen/runtime/v1/api.js';
import { failedPrecondition, invalidArgument, notFound } from '../../util/errors.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { joinWithin, requireCleanAbsolute } from '../../util/paths.js';
import { buildContainerSpec } from '../oci/index.js';
import type { Lc } from './context.js';
import { cgroupsPathOf, containerName, findContainer, imageUserDb, makeRwDirs, newId, nowNsString, podConfigOf, requireReadyPod } from './common.js';
import { toOciImageConfig } from './image-config.js';
import type { ContainerRecord, SandboxRecord } from './types.js';
import { rm } from 'node:fs/promises';
import { guestUserDb } from '../kata/guest-pull.js';
import { hasHostLayers, type ImageInfo } from '../../images/index.js';

/** Download and unpack the layers of a metadata-only image, saying so in the log. */
async function completeImage(lc: Lc, imageId: string, imageName: string): Promise<ImageInfo> {
  lc.log.info({ image: imageName, id: imageId }, 'image has only its metadata here (pulled for a guest-pull handler); fetching its layers');
  return lc.images.completeLayers(imageId);
}

/** <log_directory>/<log_path>, refusing relative directories and escapes. */
export function containerLogPath(logDirectory: string, logPath: string): string {
  if (!logPath) return '';
  if (!logDirectory) return '';
  const dir = requireCleanAbsolute(logDirectory, 'sandbox log_directory');
  if (logPath.startsWith('/')) throw invalidArgument(`log_path ${JSON.stringify(logPath)} must be relative to the sandbox log_directory`);
  return joinWithin(dir, logPath, 'log_path');
}

function targetPid(lc: Lc, pod: SandboxRecord, config: ContainerConfig): number | undefined {
  const opts = config.linux?.securityContext?.namespaceOptions;
  if (opts?.pid !== NamespaceMode.TARGET) return undefined;
  const target = findContainer(lc, opts.targetId);
  if (!target || target.podId !== pod.id) throw notFound(`pid namespace target container ${JSON.stringify(opts.targetId)} not found in pod ${pod.id}`);
  if (target.phase !== 'running') throw failedPrecondition(`pid namespace target container ${target.id} is not running`);
  return target.pid;
}

export async function createContainer(lc: Lc, podId: string, config: ContainerConfig): Promise<ContainerRecord> {
  const pod = requireReadyPod(lc, podId);
  const podConfig = podConfigOf(pod);
  const imageName = config.image?.image?.trim() ?? '';
  if (!imageName) throw invalidArgument('CreateContainer: config.image.image is required');
  const found = lc.images.find(imageName);
  if (!found) throw notFound(`image ${JSON.stringify(imageName)} not found; pull it before creating the container`);
  const backend = lc.handlers.get(pod.handler);
  if (!backend) throw failedPrecondition(`pod ${pod.id} uses runtime handler ${pod.handler}, which is no longer configured`);
  const guestPull = backend.imagePull === 'guest';
  const name = containerName(config, podConfig);
  const logPath = containerLogPath(podConfig.logDirectory, config.logPath);
  for (const m of config.mounts) requireCleanAbsolute(m.containerPath, `mount container_path`);
  // A host-pull handler needs the layers here. An image pulled for a guest-pull pod has only
  // its metadata; the kubelet sees it present and will not pull again, so complete it now.
  const image = guestPull || hasHostLayers(found) ? found : await completeImage(lc, found.id, imageName);
  const id = newId();
  lc.containerNames.reserve(name, id);
  const rec: ContainerRecord = {
    id,
    podId: pod.id,
    name,
    phase: 'creating',
    createdAtNs: nowNsString(),
    startedAtNs: '0',
    finishedAtNs: '0',
    exitCode: 0,
    reason: '',
    message: '',
    pid: 0,
    config: ContainerConfig.toJSON(config),
    image: { name: imageName, id: image.id, ref: image.repoDigests[0] ?? image.id },
    logPath,
    bundle: join(lc.layout.bundles, id),
    rwDir: join(lc.layout.containersRoot, id, 'rw'),
    cgroupsPath: cgroupsPathOf(lc, podConfig, id, pod.chosenCgroupParent),
    // The host snapshots under this container's rootfs (kept by GC while it exists); none when
    // the guest pulls the image.
    layerChainIds: guestPull ? [] : image.layers.map((l) => l.chainId),
    stopSignal: config.stopSignal ? Signal[config.stopSignal].replace(/^SIGNAL_/, '') : image.config.StopSignal || 'SIGTERM',
    oomKilled: false,
    user: { uid: 0, gid: 0, additionalGids: [] },
    journal: [],
  };
  try {
    rec.journal.push('rwlayer', 'bundle');
    await lc.containers.save(rec);
    await makeRwDirs(rec.rwDir);
    await mkdir(rec.bundle, { recursive: true, mode: 0o711 });
    const spec = await buildContainerSpec(
      {
        id,
        sandboxId: pod.id,
        config,
        sandboxConfig: podConfig,
        image: toOciImageConfig(image.config),
        imageName,
        rootfs: join(rec.bundle, 'rootfs'),
        rootPath: 'rootfs',
        userDb: guestPull ? async () => guestUserDb(imageName) : () => imageUserDb(lc, image.id),
        sandboxPid: pod.pid,
        targetPid: targetPid(lc, pod, config),
        podFiles: pod.podFiles,
        cgroupDriver: lc.config.cgroupDriver,
        cgroupsPath: rec.cgroupsPath,
        host: lc.host,
        runtime: { podAnnotations: backend.config.podAnnotations, containerAnnotations: backend.config.containerAnnotations },
      },
      { log: lc.log },
    );
    await backend.adjustSpec(spec, {
      podId: pod.id,
      containerId: id,
      kind: 'container',
      podAnnotations: podConfig.annotations,
      containerAnnotations: config.annotations,
      pod: podConfig,
      container: config,
      image: { name: imageName, id: image.id, repoDigests: image.repoDigests, repoTags: image.repoTags, userSpecified: config.image?.userSpecifiedImage || undefined },
    });
    for (const hook of lc.specHooks) await hook(spec, { kind: 'container', podId: pod.id, containerId: id, handler: pod.handler, pod: podConfig, container: config });
    await writeJsonAtomic(join(rec.bundle, 'config.json'), spec);
    const u = spec.process?.user;
    rec.user = { uid: u?.uid ?? 0, gid: u?.gid ?? 0, additionalGids: u?.additionalGids ?? [] };
    rec.phase = 'created';
    rec.journal = [];
    await lc.containers.save(rec);
    lc.log.info({ container: id, pod: pod.id, name, image: imageName }, 'container created');
    lc.events.safeEmit('container-created', { container: rec, pod });
    return rec;
  } catch (err) {
    lc.containerNames.release(name, id);
    await rm(rec.bundle, { recursive: true, force: true });
    await rm(join(lc.layout.containersRoot, id), { recursive: true, force: true });
    await lc.containers.delete(id);
    throw err;
  }
}
