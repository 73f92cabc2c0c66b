/**
 * RunPodSandbox: resolve the runtime handler, reserve the name, then create — recording each
 * host resource in the record's journal before moving on — the pod files and /dev/shm, the
 * network namespace, the bundle with the pause container's spec, the pod's shim and the
 * sandbox task. Any failure rolls back exactly what the journal lists.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NamespaceMode, PodSandboxConfig } from '../../gen/runtime/v1/api.js';
import { failedPrecondition } from '../../util/errors.js';
import { buildSandboxSpec, cgroupsPathFor } from '../oci/index.js';
import { createNetns, netnsPath } from '../../network/netns.js';
import { createPodFiles } from './pod-files.js';
import type { Lc } from './context.js';
import { imageUserDb, makeRwDirs, newId, nowNsString, overlayRootfs, sandboxName } from './common.js';
import type { SandboxRecord } from './types.js';
import { rollbackSandbox } from './sandbox-teardown.js';
import type { ImageInfo } from '../../images/index.js';
import { toOciImageConfig } from './image-config.js';
import { watchShim } from './shim-ops.js';

async function ensureSandboxImage(lc: Lc, signal?: AbortSignal): Promise<ImageInfo> {
  const name = lc.config.sandboxImage;
  return lc.images.find(name) ?? (await lc.images.pull(name, { pinned: true, signal }));
}

export async function runPodSandbox(lc: Lc, config: PodSandboxConfig, handler: string, signal?: AbortSignal): Promise<SandboxRecord> {
  const backend = await lc.handlers.resolve(handler);
  const hostNet = config.linux?.securityContext?.namespaceOptions?.network === NamespaceMode.NODE;
  if (!hostNet) {
    const net = lc.cni.status();
    if (!net.ready) throw failedPrecondition(`pod network is not ready (${net.reason}): ${net.message}`);
  }
  const name = sandboxName(config);
  const id = newId();
  lc.podNames.reserve(name, id);
  try {
    return await lc.locks.run(`pod:${id}`, () => createSandbox(lc, id, name, config, backend.name, signal));
  } catch (err) {
    lc.podNames.release(name, id);
    throw err;
  }
}

async function createSandbox(
  lc: Lc,
  id: string,
  name: string,
  config: PodSandboxConfig,
  handler: string,
  signal?: AbortSignal,
): Promise<SandboxRecord> {
  const backend = lc.handlers.get(handler)!;
  const image = await ensureSandboxImage(lc, signal);
  const ns = config.linux?.securityContext?.namespaceOptions;
  const hostNetwork = ns?.network === NamespaceMode.NODE;
  const rec: SandboxRecord = {
    id,
    name,
    phase: 'creating',
    createdAtNs: nowNsString(),
    config: PodSandboxConfig.toJSON(config),
    handler,
    hostNetwork,
    podFiles: {},
    persistentDir: join(lc.layout.podsRoot, id),
    runtimeDir: join(lc.layout.podsState, id),
    bundle: join(lc.layout.bundles, id),
    cgroupsPath: cgroupsPathFor(lc.config.cgroupDriver, config.linux?.cgroupParent ?? '', id) ?? '',
    image: { id: image.id, name: lc.config.sandboxImage },
    pid: 0,
    ip: '',
    additionalIps: [],
    journal: [],
  };
  const step = async (r: SandboxRecord['journal'][number], fn: () => Promise<void>) => {
    rec.journal.push(r);
    await lc.pods.save(rec);
    await fn();
  };
  try {
    await lc.pods.save(rec);
    await step('podfiles', async () => {
      rec.podFiles = await createPodFiles({
        persistentDir: rec.persistentDir,
        runtimeDir: rec.runtimeDir,
        hostname: config.hostname,
        hostNetwork,
        hostIpc: ns?.ipc === NamespaceMode.NODE,
        dns: config.dnsConfig,
      });
    });
    if (!hostNetwork) {
      rec.netnsPath = netnsPath(lc.config.state, id);
      await step('netns', () => createNetns(rec.netnsPath!));
      await step('network', async () => {
        const net = await lc.cni.setup({
          podId: id,
          netnsPath: rec.netnsPath!,
          podName: config.metadata!.name,
          podNamespace: config.metadata!.namespace,
          podUid: config.metadata!.uid,
          portMappings: config.portMappings.map((m) => ({
            hostPort: m.hostPort,
            containerPort: m.containerPort,
            protocol: ['tcp', 'udp', 'sctp'][m.protocol] ?? 'tcp',
            hostIP: m.hostIp || undefined,
          })),
          dns: config.dnsConfig ? { servers: config.dnsConfig.servers, searches: config.dnsConfig.searches, options: config.dnsConfig.options } : undefined,
        });
        rec.ip = net.ips[0] ?? '';
        rec.additionalIps = net.ips.slice(1);
      });
    }
    const rwDir = join(rec.persistentDir, 'rw');
    await step('bundle', async () => {
      await mkdir(rec.bundle, { recursive: true, mode: 0o711 });
      await makeRwDirs(rwDir);
      const spec = await buildSandboxSpec(
        {
          id,
          config,
          image: toOciImageConfig(image.config),
          imageName: lc.config.sandboxImage,
          rootfs: 'rootfs',
          userDb: () => imageUserDb(lc, image.id),
          netnsPath: rec.netnsPath,
          podFiles: rec.podFiles,
          cgroupDriver: lc.config.cgroupDriver,
          runtimeHandler: handler,
          host: lc.host,
          runtime: { podAnnotations: backend.config.podAnnotations, containerAnnotations: backend.config.containerAnnotations },
        },
        { log: lc.log },
      );
      backend.adjustSpec(spec, { podId: id, containerId: id, kind: 'sandbox', podAnnotations: config.annotations, containerAnnotations: {} });
      await writeFile(join(rec.bundle, 'config.json'), JSON.stringify(spec));
    });
    const options = backend.shimOptions(lc.layout.runcRoot);
    await step('shim', async () => {
      const shim = watchShim(lc, id, await lc.shims.start({ binary: backend.shimBinary, id, bundle: rec.bundle, options }));
      rec.shim = { address: shim.info.address, binary: backend.shimBinary, bundle: rec.bundle, pid: shim.info.shimPid };
    });
    const shim = lc.shims.get(rec.shim!.address)!;
    await step('task', async () => {
      await shim.task.create({ id, bundle: rec.bundle, rootfs: overlayRootfs(lc.images.snapshotChain(image.id), rwDir), options });
      rec.pid = (await shim.task.start(id)).pid;
    });
    lc.exits.watch(id, shim.task);
    rec.phase = 'ready';
    await lc.pods.save(rec);
    lc.log.info({ pod: id, name, handler, pid: rec.pid }, 'pod sandbox running');
    return rec;
  } catch (err) {
    lc.log.warn({ pod: id, err: (err as Error).message, journal: rec.journal }, 'RunPodSandbox failed; rolling back');
    await rollbackSandbox(lc, rec).catch((e: unknown) => lc.log.error({ pod: id, err: e }, 'rollback incomplete'));
    throw err;
  }
}
