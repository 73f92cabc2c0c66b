/**
 * Wiring: builds every component from the config in dependency order, serves CRI, and
 * tears down in reverse. Nothing here decides policy; it only connects modules.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { adminSocketOf, type Config } from './config.js';
import { logger, setLogLevel, type Logger } from '../util/log.js';
import { startCriServer, type CriServer, type RuntimeHandlers } from '../cri/server.js';
import { runtimeInfoHandlers, type Condition, type StatusSource } from '../cri/runtime-info.js';
import { imageHandlers } from '../cri/images.js';
import { v1alpha2Services } from '../cri/v1alpha2/services.js';
import { podHandlers } from '../cri/pods.js';
import { containerHandlers } from '../cri/containers.js';
import { BERTH_VERSION } from './version.js';
import { ImageService } from '../images/index.js';
import { CgroupManager } from '../cgroups/index.js';
import { detectHostFacts } from '../runtimes/oci/index.js';
import { ensureDefaultProfile } from '../runtimes/oci/apparmor.js';
import { HandlerRegistry } from '../runtimes/registry.js';
import { Lifecycle } from '../runtimes/lifecycle/index.js';
import type { HostFacts } from '../runtimes/oci/inputs.js';
import { CniManager } from '../network/cni/index.js';
import { StatsSampler } from '../sli/sampler.js';
import { statsHandlers } from '../cri/stats.js';
import { fsMountpoint } from '../images/usage.js';
import { StreamingServer } from '../streaming/index.js';
import { streamingHandlers } from '../cri/streaming.js';
import { AdminServer } from '../admin/server.js';
import { startQos } from '../qos/index.js';
import { registerImageRoutes } from '../admin/images.js';
import { lifecycleInventory, SliService } from '../sli/index.js';
import { metricsHandlers } from '../cri/metrics.js';
import { observeCalls } from '../cri/instrument.js';

export interface RunningDaemon {
  config: Config;
  images: ImageService;
  lifecycle: Lifecycle;
  cri: CriServer;
  stop(): Promise<void>;
}

/** A part of the daemon with a shut-down step; parts stop in reverse order of start. */
interface Part {
  name: string;
  stop(): Promise<void>;
}

async function hostFacts(cg: CgroupManager): Promise<HostFacts> {
  const layout = cg.system.layout;
  return detectHostFacts({
    cgroupV2: layout.mode === 'v2',
    swapAccounting: cg.feature('memory.swap').available,
    hugetlb: layout.mode === 'v2' ? layout.v2Controllers.includes('hugetlb') : layout.v1.hugetlb !== undefined,
  });
}

function statusSource(config: Config, handlers: HandlerRegistry, cni: CniManager, cg: CgroupManager, host: HostFacts, streamingUrl: () => string): StatusSource {
  return {
    runtimeVersion: BERTH_VERSION,
    async conditions(): Promise<Condition[]> {
      const def = await handlers.support(handlers.defaultName);
      return [
        def.ok
          ? { type: 'RuntimeReady', status: true, reason: '', message: '' }
          : {
              type: 'RuntimeReady',
              status: false,
              reason: 'DefaultRuntimeHandlerUnavailable',
              message: `default runtime handler ${handlers.defaultName}: ${def.missing.join('; ')}`,
            },
        (() => {
          const net = cni.status();
          return net.ready
            ? { type: 'NetworkReady', status: true, reason: '', message: '' }
            : { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: `${net.reason}: ${net.message}` };
        })(),
      ];
    },
    async verboseInfo() {
      const runtimeHandlers: Record<string, unknown> = {};
      for (const name of handlers.names()) {
        const s = await handlers.support(name);
        runtimeHandlers[name] = { type: handlers.get(name)!.type, supported: s.ok, missing: s.missing, found: s.found };
      }
      return {
        config,
        version: BERTH_VERSION,
        runtimeHandlers,
        network: cni.status(),
        streaming: streamingUrl(),
        cgroup: { mode: cg.mode, layout: cg.system.layout },
        host: { oomScoreAdj: host.oomScoreAdj, apparmor: host.apparmorEnabled, arch: host.arch },
      };
    },
    runtimeHandlers: () => handlers.names().map((name) => ({ name, recursiveReadOnlyMounts: host.recursiveReadOnlyMounts, userNamespaces: false })),
    cgroupDriver: () => config.cgroupDriver,
  };
}

export async function startDaemon(config: Config, log: Logger = logger('daemon')): Promise<RunningDaemon> {
  setLogLevel(config.logLevel);
  const parts: Part[] = [];
  const stopAll = async () => {
    for (const p of parts.reverse()) {
      try {
        await p.stop();
      } catch (err) {
        log.error({ err, part: p.name }, 'error while stopping');
      }
    }
  };
  try {
    await mkdir(config.root, { recursive: true, mode: 0o711 });
    await mkdir(config.state, { recursive: true, mode: 0o711 });
    const cg = CgroupManager.detect();
    const host = await hostFacts(cg);
    if (host.apparmorEnabled) host.apparmorDefaultProfile = await ensureDefaultProfile(logger('apparmor'));
    const handlers = new HandlerRegistry(config.runtimes, { mode: cg.mode, unifiedControllers: cg.system.layout.mode === 'hybrid' ? cg.system.layout.v2Controllers : [] });

    const cni = await CniManager.open({
      confDir: config.cni.confDir,
      binDirs: config.cni.binDirs,
      cacheDir: join(config.root, 'cni-cache'),
      pluginTimeoutMs: config.cni.pluginTimeoutSeconds * 1000,
    });
    parts.push({ name: 'cni', stop: async () => cni.close() });
    let lifecycle: Lifecycle | undefined;
    const images = await ImageService.open({
      root: join(config.root, 'images'),
      registry: config.registry,
      logger: logger('images'),
      // Layers under containers' rootfs stay even if their image is removed.
      gcRoots: () => (lifecycle ? lifecycle.containers().flatMap((c) => c.layerChainIds) : []),
      gcOnOpen: false,
    });
    parts.push({ name: 'images', stop: () => images.close() });
    lifecycle = await Lifecycle.open({ config, images, handlers, cni, host, cgroups: cg });
    const lc = lifecycle;
    parts.push({ name: 'lifecycle', stop: () => lc.close() });
    await images.gc();

    const sampler = new StatsSampler(
      cg,
      {
        containers: () => lc.containers().filter((c) => c.phase === 'running').map((c) => lc.statsTarget(c)),
        pods: () => lc.pods().filter((p) => p.phase === 'ready').map((p) => lc.statsTarget(p)),
      },
      logger('sampler'),
      { intervalMs: config.sli.cgroupIntervalSeconds * 1000, diskIntervalMs: config.sli.diskIntervalSeconds * 1000 },
    );
    sampler.start();
    parts.push({ name: 'sampler', stop: async () => sampler.stop() });
    const sli = new SliService({ cg, sampler, inventory: lifecycleInventory(lc), options: config, log: logger('sli') });
    const sliHooks = [sli.attachLifecycle(lc.events), observeCalls((ev) => sli.self.recordCall(ev)), images.observePulls((p) => sli.self.recordPull(p))];
    await sli.start();
    parts.push({ name: 'sli', stop: async () => (sliHooks.forEach((off) => off()), sli.stop()) });
    const containerFsMountpoint = await fsMountpoint(config.root);
    const streaming = new StreamingServer({
      runtime: lc.streamingRuntime(),
      address: config.streaming.address,
      tokenTtlMs: config.streaming.tokenTtlSeconds * 1000,
      logger: logger('streaming'),
    });
    await streaming.start();
    parts.push({ name: 'streaming', stop: () => streaming.stop() });

    const status = statusSource(config, handlers, cni, cg, host, () => streaming.baseUrl);
    const runtime: RuntimeHandlers = {
      ...runtimeInfoHandlers(status),
      ...podHandlers(lc),
      ...containerHandlers(lc),
      ...statsHandlers({ lifecycle: lc, sampler, containerFsMountpoint }),
      ...streamingHandlers(lc, streaming),
      ...metricsHandlers(sli),
    };
    const image = imageHandlers(images, { handlers, runtimes: config.runtimes });
    // runtime.v1alpha2 (kubelets 1.20-1.25) on the same socket, through the same handlers.
    const extra = v1alpha2Services(runtime, image, logger('cri'));
    const admin = new AdminServer(logger('admin'));
    admin.route('GET', '/v1/info', async () => ({ version: BERTH_VERSION, ...(await status.verboseInfo()), conditions: await status.conditions() }));
    admin.route('GET', '/v1/features', async () => ({ mode: cg.mode, features: cg.system.features }));
    registerImageRoutes(admin, images, handlers);
    admin.route('GET', '/v1/sli', async (req) => sli.report({ pod: req.query.get('pod') || undefined, namespace: req.query.get('namespace') || undefined, qosClass: req.query.get('class') || undefined }));
    // QoS: spec hook + loop + /v1/qos/* routes; before the CRI socket opens, so every new pod gets its class.
    const qos = await startQos({ config: config.qos, root: config.root, state: config.state, cg, lifecycle: lc, sampler, admin, log: logger('qos') });
    if (qos) parts.push({ name: 'qos', stop: () => qos.stop() });
    sli.setQosView(qos); // classes, BE allowance, suppression/eviction counters for metrics
    await admin.listen(adminSocketOf(config));
    parts.push({ name: 'admin', stop: () => admin.close() });

    const cri = await startCriServer({ listen: config.listen, runtime, image, log: logger('cri'), extra });
    parts.push({ name: 'cri', stop: () => cri.stop() });
    log.info({ version: BERTH_VERSION, root: config.root, state: config.state, cgroup: cg.mode }, 'berthd started');
    return { config, images, lifecycle: lc, cri, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
