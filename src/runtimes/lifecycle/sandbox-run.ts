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
import { buildSandboxSpec } from '../oci/index.js';
import { createNetns, netnsPath } from '../../network/netns.js';
import { createPodFiles, podFilePaths } from './pod-files.js';
import type { Lc } from './context.js';
import { imageUserDb, makeRwDirs, newId, nowNsString, overlayRootfs, sandboxName, cgroupsPathOf } from './common.js';
import type { SandboxRecord } from './types.js';
import { rollbackSandbox } from './sandbox-teardown.js';
import { hasHostLayers, type ImageInfo } from '../../images/index.js';
import type { RuntimeBackend } from '../backend.js';
import { toOciImageConfig } from './image-config.js';
import { watchShim } from './shim-ops.js';
import { guestUserDb } from '../kata/guest-pull.js';

/**
 * The sandbox (pause) image, as the pod's handler needs it.
 * A host-pull handler runs it from host layers: pulled if missing, its layers completed if only
 * its metadata is here (a guest-pull pod pulled it first).
 * A guest-pull handler never needs its layers: as with containerd and Kata's guest pull, the
 * Kata agent starts the sandbox from the pause bundle built into the guest image and nothing is
 * mounted from the host. Its metadata is still pulled (once, pinned): the sandbox spec takes
 * the image's entrypoint and config like any other, and the kubelet sees the image present.
 */
async function ensureSandboxImage(lc: Lc, backend: RuntimeBackend, signal?: AbortSignal): Promise<ImageInfo> {
  const name = lc.config.sandboxImage;
  const guest = backend.imagePull === 'guest';
  const found = lc.images.find(name);
  if (!found) return lc.images.pull(name, { pinned: true, signal, layers: !guest });
  if (guest || hasHostLayers(found)) return found;
  return lc.images.completeLayers(found.id, { signal });
}

/** The chooser's parent for a pod without one; its failure only costs the choice (default parent). */
async function chooseParent(lc: Lc, config: PodSandboxConfig, handler: string): Promise<string | undefined> {
  if (!lc.parentChooser) return undefined;
  try {
    return (await lc.parentChooser(config, handler)) || undefined;
  } catch (err) {
    lc.log.warn({ err, pod: config.metadata?.name }, 'cgroup parent chooser failed; using the default parent');
    return undefined;
  }
}

/** Wait for every promise; then throw the first failure (nothing is left running behind it). */
async function settleAll(ps: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function runPodSandbox(lc: Lc, config: PodSandboxConfig, handler: string, signal?: AbortSignal): Promise<SandboxRecord> {
  const receivedAtNs = BigInt(Date.now()) * 1_000_000n;
  const backend = await lc.handlers.resolve(handler, config);
  const hostNet = config.linux?.securityContext?.namespaceOptions?.network === NamespaceMode.NODE;
  if (!hostNet) {
    const net = lc.cni.status();
    if (!net.ready) throw failedPrecondition(`pod network is not ready (${net.reason}): ${net.message}`);
  }
  const name = sandboxName(config);
  const id = newId();
  lc.podNames.reserve(name, id);
  try {
    return await lc.locks.run(`pod:${id}`, () => createSandbox(lc, id, name, config, backend.name, receivedAtNs, signal));
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
  receivedAtNs: bigint,
  signal?: AbortSignal,
): Promise<SandboxRecord> {
  const backend = lc.handlers.get(handler)!;
  const image = await ensureSandboxImage(lc, backend, signal);
  const ns = config.linux?.securityContext?.namespaceOptions;
  const hostNetwork = ns?.network === NamespaceMode.NODE;
  const chosenParent = config.linux?.cgroupParent ? undefined : await chooseParent(lc, config, handler);
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
    cgroupsPath: cgroupsPathOf(lc, config, id, chosenParent),
    ...(chosenParent ? { chosenCgroupParent: chosenParent } : {}),
    image: { id: image.id, name: lc.config.sandboxImage },
    pid: 0,
    ip: '',
    additionalIps: [],
    journal: [],
  };
  const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await fn();
    lc.log.debug({ pod: id, step: what, ms: +(performance.now() - t0).toFixed(1) }, 'sandbox step done');
    return out;
  };
  const hostIpc = ns?.ipc === NamespaceMode.NODE;
  rec.podFiles = podFilePaths(rec.persistentDir, rec.runtimeDir, hostIpc);
  if (!hostNetwork) rec.netnsPath = netnsPath(lc.config.state, id);
  // The journal names every resource this call may create, before any exists; each undo step
  // is idempotent, so one durable write up front makes a crash at any point recoverable.
  rec.journal = hostNetwork ? ['podfiles', 'bundle', 'shim', 'task'] : ['podfiles', 'netns', 'network', 'bundle', 'shim', 'task'];
  const rwDir = join(rec.persistentDir, 'rw');
  const options = backend.shimOptions(lc.layout.runcRoot);

  const podFiles = () =>
    timed('podfiles', () =>
      createPodFiles({ persistentDir: rec.persistentDir, runtimeDir: rec.runtimeDir, hostname: config.hostname, hostNetwork, hostIpc, dns: config.dnsConfig }),
    );
  const network = async (): Promise<void> => {
    if (hostNetwork) return;
    await timed('netns', () => createNetns(rec.netnsPath!));
    const net = await timed('network', () =>
      lc.cni.setup({
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
      }),
    );
    rec.ip = net.ips[0] ?? '';
    rec.additionalIps = net.ips.slice(1);
  };
  const bundleAndShim = async (): Promise<void> => {
    await timed('bundle', async () => {
      await mkdir(rec.bundle, { recursive: true, mode: 0o711 });
      await makeRwDirs(rwDir);
      const spec = await buildSandboxSpec(
        {
          id,
          config,
          image: toOciImageConfig(image.config),
          imageName: lc.config.sandboxImage,
          rootfs: 'rootfs',
          userDb: backend.imagePull === 'guest' ? async () => guestUserDb(lc.config.sandboxImage) : () => imageUserDb(lc, image.id),
          netnsPath: rec.netnsPath,
          podFiles: rec.podFiles,
          cgroupDriver: lc.config.cgroupDriver,
          cgroupsPath: rec.cgroupsPath,
          runtimeHandler: handler,
          host: lc.host,
          runtime: { podAnnotations: backend.config.podAnnotations, containerAnnotations: backend.config.containerAnnotations },
        },
        { log: lc.log },
      );
      await backend.adjustSpec(spec, { podId: id, containerId: id, kind: 'sandbox', podAnnotations: config.annotations, containerAnnotations: {}, pod: config });
      for (const hook of lc.specHooks) await hook(spec, { kind: 'sandbox', podId: id, containerId: id, handler, pod: config });
      await writeFile(join(rec.bundle, 'config.json'), JSON.stringify(spec));
    });
    await timed('shim', async () => {
      const shim = watchShim(lc, id, await lc.shims.start({ binary: backend.shimBinary, id, bundle: rec.bundle, options }));
      rec.shim = { address: shim.info.address, binary: backend.shimBinary, bundle: rec.bundle, pid: shim.info.shimPid };
    });
  };
  const task = () =>
    timed('task', async () => {
      const shim = lc.shims.get(rec.shim!.address)!;
      // Guest pull: the image is pulled inside the VM, nothing is mounted on the host.
      const rootfs = backend.imagePull === 'guest' ? [] : overlayRootfs(lc.images.snapshotChain(image.id), rwDir);
      await shim.task.create({ id, bundle: rec.bundle, rootfs, options });
      rec.pid = (await shim.task.start(id)).pid;
      lc.exits.watch(id, shim.task);
    });

  try {
    await lc.pods.save(rec);
    // A VM sandbox (Kata) reads the netns when it boots, so CNI must finish first; the pause
    // container of a runc pod does not care, so CNI (the slow half) runs beside everything.
    if (backend.type === 'runc') {
      await settleAll([network(), settleAll([podFiles(), bundleAndShim()]).then(task)]);
    } else {
      await network();
      await settleAll([podFiles(), bundleAndShim()]);
      await task();
    }
    rec.phase = 'ready';
    rec.journal = [];
    await lc.pods.save(rec);
    lc.log.info({ pod: id, name, handler, pid: rec.pid }, 'pod sandbox running');
    lc.events.safeEmit('pod-ready', { pod: rec, receivedAtNs });
    return rec;
  } catch (err) {
    lc.log.warn({ pod: id, err: (err as Error).message, journal: rec.journal }, 'RunPodSandbox failed; rolling back');
    await rollbackSandbox(lc, rec).catch((e: unknown) => lc.log.error({ pod: id, err: e }, 'rollback incomplete'));
    throw err;
  }
}
