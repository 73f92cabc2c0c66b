/**
 * CniManager: what berth's sandbox code calls. It keeps the network config current
 * (ConfigWatcher), runs loopback then the pod network on ADD, tears them down from the cache
 * on DEL, and serialises calls per pod.
 */
import { mkdir } from 'node:fs/promises';
import { failedPrecondition, notFound } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import { ResultCache, type CacheEntry } from './cache.js';
import type { CniStatus } from './config-load.js';
import { ConfigWatcher } from './config-watcher.js';
import { buildCniArgs, checkContainerId, checkIfName } from './invocation.js';
import { addList, checkList, type PluginTiming } from './list-ops.js';
import { isLiveNetns } from './netns-standin.js';
import { VersionProbe } from './plugins.js';
import {
  capabilityArgsOf,
  checkSetupRequest,
  podNetworkOf,
  type CheckRequest,
  type PodNetwork,
  type SetupRequest,
  type TeardownRequest,
  type TeardownResult,
} from './pod-request.js';
import { CniTeardownError, teardownEntries, type TeardownDeps } from './teardown.js';
import { LOOPBACK_IFNAME } from './loopback.js';
import { supportsCheck } from './versions.js';
import type { NetworkConfigList } from './types.js';

const log = logger('cni');

export const DEFAULT_CONF_DIR = '/etc/cni/net.d';
export const DEFAULT_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

export interface CniManagerOptions {
  confDir?: string;
  binDirs?: string[];
  /** Where ADD results are cached, e.g. <root>/cni-cache. */
  cacheDir: string;
  /** Per plugin invocation; default 60 s. */
  pluginTimeoutMs?: number;
  /** The pod interface; default eth0. */
  ifName?: string;
  /** Run the loopback plugin on lo (as containerd does); default true. */
  loopback?: boolean;
  /** fs.watch the conf and bin dirs; default true. */
  watch?: boolean;
  /** Create the conf dir when missing (containerd does); default true. */
  createConfDir?: boolean;
  /** Stand-in namespace for DEL after the pod's namespace is gone; default true. */
  standInNetns?: boolean;
}

export class CniManager {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly ifName: string;
  private readonly deps: TeardownDeps;

  private constructor(
    private readonly watcher: ConfigWatcher,
    private readonly cache: ResultCache,
    private readonly binDirs: string[],
    private readonly timeoutMs: number,
    o: CniManagerOptions,
  ) {
    this.ifName = o.ifName ?? 'eth0';
    checkIfName(this.ifName);
    this.deps = { cache, binDirs, timeoutMs, standIn: o.standInNetns ?? true };
  }

  static async open(o: CniManagerOptions): Promise<CniManager> {
    const confDir = o.confDir ?? DEFAULT_CONF_DIR;
    const binDirs = o.binDirs ?? DEFAULT_BIN_DIRS;
    const timeoutMs = o.pluginTimeoutMs ?? 60_000;
    if (o.createConfDir ?? true) await mkdir(confDir, { recursive: true, mode: 0o755 });
    await mkdir(o.cacheDir, { recursive: true, mode: 0o700 });
    const watcher = new ConfigWatcher({ confDir, binDirs, probe: new VersionProbe(binDirs, timeoutMs), loopback: o.loopback ?? true });
    const m = new CniManager(watcher, new ResultCache(o.cacheDir), binDirs, timeoutMs, o);
    await watcher.reload();
    if (o.watch ?? true) watcher.watch();
    return m;
  }

  /** Readiness from the last look (re-checked in the background when stale). */
  status(): CniStatus {
    return this.watcher.status();
  }

  /** Look at the conf and bin dirs again now. */
  async refresh(): Promise<CniStatus> {
    return (await this.watcher.reload()).status;
  }

  private serial<T>(podId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(podId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.locks.set(podId, tail);
    void tail.then(() => {
      if (this.locks.get(podId) === tail) this.locks.delete(podId);
    });
    return next;
  }

  private async readyNetworks(): Promise<{ main: NetworkConfigList; loopback?: NetworkConfigList }> {
    let nets = this.watcher.networks();
    if (!nets.status.ready) nets = await this.watcher.reload();
    if (!nets.status.ready || !nets.main) throw failedPrecondition(`pod network is not ready: ${nets.status.message}`);
    return { main: nets.main, loopback: nets.loopback };
  }

  /** ADD loopback (on lo) and the pod network (on eth0). On failure whatever was added is undone. */
  setup(req: SetupRequest): Promise<PodNetwork> {
    checkSetupRequest(req);
    return this.serial(req.podId, () => this.doSetup(req));
  }

  private async doSetup(req: SetupRequest): Promise<PodNetwork> {
    const t0 = performance.now();
    const { main, loopback } = await this.readyNetworks();
    if (!(await isLiveNetns(req.netnsPath))) throw failedPrecondition(`network namespace ${req.netnsPath} of pod ${req.podId} does not exist`);
    const existing = await this.cache.forPod(req.podId);
    if (existing.length > 0) {
      throw failedPrecondition(`pod ${req.podId} already has CNI network ${existing.map((e) => e.networkName).join(', ')} set up; tear it down first`);
    }
    const cniArgs = buildCniArgs(req);
    const caps = capabilityArgsOf(req);
    const timings: PluginTiming[] = [];
    const entries = [
      ...(loopback ? [this.entryFor(req, loopback, LOOPBACK_IFNAME, 'loopback', cniArgs, {})] : []),
      this.entryFor(req, main, this.ifName, 'main', cniArgs, caps),
    ];
    const started: CacheEntry[] = [];
    // Loopback (lo) and the pod network (eth0) touch different interfaces: run them side by side, as go-cni does.
    const outcomes = await Promise.allSettled(entries.map((e) => this.addOne(e, started, timings)));
    const failed = [...outcomes].reverse().find((o): o is PromiseRejectedResult => o.status === 'rejected'); // main's error first
    if (failed) throw await this.undo(req, started.sort((a, b) => (a.role === b.role ? 0 : a.role === 'main' ? -1 : 1)), failed.reason);
    const mainEntry = entries.find((e) => e.role === 'main')!;
    const net = podNetworkOf(main.name, mainEntry.result!, main.cniVersion, this.ifName, timings);
    log.info({ pod: req.podId, network: main.name, ips: net.ips, ms: Math.round(performance.now() - t0) }, 'pod network set up');
    return net;
  }

  private entryFor(
    req: SetupRequest,
    list: NetworkConfigList,
    ifName: string,
    role: CacheEntry['role'],
    cniArgs: string,
    capabilityArgs: CacheEntry['capabilityArgs'],
  ): CacheEntry {
    return this.cache.fresh({ containerId: req.podId, ifName, networkName: list.name, role, config: list, cniArgs, capabilityArgs, netnsPath: req.netnsPath });
  }

  /** Record the intent, ADD, record the result. */
  private async addOne(entry: CacheEntry, started: CacheEntry[], timings: PluginTiming[]): Promise<void> {
    await this.cache.write(entry);
    started.push(entry);
    const result = await addList(
      {
        list: entry.config,
        containerId: entry.containerId,
        netns: entry.netnsPath,
        ifName: entry.ifName,
        cniArgs: entry.cniArgs,
        caps: entry.capabilityArgs,
        binDirs: this.binDirs,
        timeoutMs: this.timeoutMs,
      },
      timings,
    );
    Object.assign(entry, { state: 'added', result });
    await this.cache.write(entry);
  }

  /** After a failed ADD: DEL what was started; the ADD error is what the caller sees. */
  private async undo(req: SetupRequest, started: CacheEntry[], err: unknown): Promise<unknown> {
    if (!(err instanceof Error)) return err;
    try {
      const r = await teardownEntries(started, req.netnsPath, false, this.deps, []);
      err.message += r.failures.length
        ? `; undoing the partial setup failed too (${r.failures.map((f) => f.message).join('; ')}), a later teardown retries it`
        : '; the partial setup was undone';
    } catch (undoErr) {
      err.message += `; undoing the partial setup failed: ${(undoErr as Error).message}`;
    }
    return err;
  }

  /** DEL every cached network of the pod. Idempotent: nothing cached → nothing to do. */
  teardown(req: TeardownRequest): Promise<TeardownResult> {
    checkContainerId(req.podId);
    return this.serial(req.podId, async () => {
      const entries = await this.cache.forPod(req.podId);
      const timings: PluginTiming[] = [];
      if (entries.length === 0) return { networks: [], ignoredErrors: [], usedStandIn: false, timings };
      const r = await teardownEntries(entries, req.netnsPath, req.force ?? false, this.deps, timings);
      if (r.failures.length > 0 && !req.force) throw new CniTeardownError(req.podId, r.failures, r.attempts);
      log.info({ pod: req.podId, networks: entries.map((e) => e.networkName), standIn: r.usedStandIn }, 'pod network torn down');
      return {
        networks: entries.map((e) => e.networkName),
        ignoredErrors: r.failures.map((f) => f.message),
        usedStandIn: r.usedStandIn,
        timings,
      };
    });
  }

  /** CHECK (cniVersion 0.4.0+) of each cached network, in ADD order. */
  check(req: CheckRequest): Promise<void> {
    checkContainerId(req.podId);
    return this.serial(req.podId, async () => {
      const entries = (await this.cache.forPod(req.podId)).reverse();
      if (entries.length === 0) throw notFound(`pod ${req.podId} has no CNI network set up`);
      if (!(await isLiveNetns(req.netnsPath))) throw failedPrecondition(`network namespace ${req.netnsPath} of pod ${req.podId} does not exist`);
      for (const e of entries) {
        if (e.state !== 'added' || !e.result) throw failedPrecondition(`CNI network ${e.networkName} of pod ${req.podId} was never fully added`);
        if (!supportsCheck(e.config.cniVersion) || e.config.disableCheck) continue;
        await checkList(
          { list: e.config, containerId: e.containerId, netns: req.netnsPath, ifName: e.ifName, cniArgs: e.cniArgs, caps: e.capabilityArgs, binDirs: this.binDirs, timeoutMs: this.timeoutMs },
          e.result,
        );
      }
    });
  }

  /** The pod's network from the cache (e.g. for PodSandboxStatus after a restart). */
  async podNetwork(podId: string): Promise<PodNetwork | undefined> {
    checkContainerId(podId);
    const main = (await this.cache.forPod(podId)).find((e) => e.role === 'main' && e.state === 'added' && e.result);
    return main ? podNetworkOf(main.networkName, main.result!, main.config.cniVersion, main.ifName, []) : undefined;
  }

  /** Pod ids with cached networks: after a restart, those not in the pod store need a teardown. */
  cachedPods(): Promise<string[]> {
    return this.cache.pods();
  }

  close(): void {
    this.watcher.close();
  }
}
