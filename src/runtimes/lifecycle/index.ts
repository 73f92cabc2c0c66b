/**
 * The pod and container lifecycle: what the CRI RuntimeService handlers call. Builds the
 * shared context (stores, shim manager, events socket), recovers state at start, and
 * serialises operations per object.
 */
import { mkdir } from 'node:fs/promises';
import type { ContainerConfig, LinuxContainerResources, PodSandboxConfig } from '../../gen/runtime/v1/api.js';
import type { Config } from '../../daemon/config.js';
import type { ImageService } from '../../images/index.js';
import { NameIndex } from '../../store/names.js';
import { RecordStore } from '../../store/record-store.js';
import { logger } from '../../util/log.js';
import type { HostFacts } from '../oci/inputs.js';
import type { HandlerRegistry } from '../registry.js';
import { EventsServer, ShimManager } from '../shim/index.js';
import type { CniManager } from '../../network/cni/index.js';
import type { CgroupManager } from '../../cgroups/index.js';
import { layoutOf, type Lc } from './context.js';
import { findContainer, findPod, getContainer, getPod, podConfigOf, type CgroupParentChooser } from './common.js';
import { cgroupPathFromOci, cleanCgroupPath, expandSlice } from '../../cgroups/index.js';
import { createContainer } from './container-create.js';
import { startContainer } from './container-start.js';
import { recordContainerExit, recordOom, removeContainerLocked, stopContainerLocked } from './container-teardown.js';
import { execSync, type ExecResult } from './exec-sync.js';
import { ExitWatcher } from './exits.js';
import { KeyedMutex } from './keyed-mutex.js';
import { LifecycleEmitter, type SpecHook } from './events.js';
import { recover } from './recovery.js';
import { runPodSandbox } from './sandbox-run.js';
import { removeSandboxLocked, stopSandboxLocked } from './sandbox-teardown.js';
import type { ContainerRecord, SandboxRecord } from './types.js';
import { reopenContainerLog, updateContainerResources } from './update.js';
import { streamingBackend } from './streaming-backend.js';
import type { StreamingRuntime } from '../../streaming/runtime.js';

export type { ContainerRecord, SandboxRecord } from './types.js';
export type { LifecycleEvents, SpecHook, SpecHookContext } from './events.js';
export type { CgroupParentChooser } from './common.js';

export interface LifecycleDeps {
  config: Config;
  images: ImageService;
  handlers: HandlerRegistry;
  cni: CniManager;
  host: HostFacts;
  cgroups?: CgroupManager;
}

export class Lifecycle {
  private constructor(
    readonly lc: Lc,
    private readonly shimEvents: EventsServer,
  ) {}

  static async open(deps: LifecycleDeps): Promise<Lifecycle> {
    const log = logger('lifecycle');
    const layout = layoutOf(deps.config);
    for (const d of [layout.bundles, layout.podsState, layout.io, layout.netns, layout.runcRoot, layout.podsRoot, layout.containersRoot]) {
      await mkdir(d, { recursive: true, mode: 0o711 });
    }
    const events = new EventsServer(logger('shim-events'));
    await events.listen(layout.events);
    const socket = deps.config.listen.replace(/^unix:\/\//, '');
    const lc = {
      config: deps.config,
      layout,
      images: deps.images,
      handlers: deps.handlers,
      cni: deps.cni,
      cgroups: deps.cgroups,
      shims: new ShimManager({ address: socket, eventsAddress: layout.events, log: logger('shim') }),
      pods: new RecordStore<SandboxRecord>(layout.records.pods, 'pod'),
      containers: new RecordStore<ContainerRecord>(layout.records.containers, 'container'),
      podNames: new NameIndex('pod sandbox'),
      containerNames: new NameIndex('container'),
      locks: new KeyedMutex(),
      host: deps.host,
      userDbs: new Map(),
      io: new Map(),
      events: new LifecycleEmitter(),
      specHooks: [],
      log,
    } as Omit<Lc, 'exits'> as Lc;
    lc.exits = new ExitWatcher(
      {
        onExit: async (id, status, atNs) => {
          const c = lc.containers.get(id);
          if (c) return recordContainerExit(lc, c, status, atNs);
          const pod = lc.pods.get(id);
          if (pod && pod.phase === 'ready') {
            pod.phase = 'notready';
            pod.stoppedReason = `the sandbox process exited with status ${status}`;
            await lc.pods.save(pod);
          }
        },
        onOom: async (id) => {
          const c = lc.containers.get(id);
          if (c) await recordOom(lc, c);
        },
      },
      log,
    );
    events.on('event', (ev) => void lc.exits.event(ev));
    const lifecycle = new Lifecycle(lc, events);
    await recover(lc);
    return lifecycle;
  }

  /** Transition events (QoS and SLI subscribe). */
  get events(): LifecycleEmitter {
    return this.lc.events;
  }

  /** Register a hook that adjusts every new sandbox and container spec. */
  addSpecHook(hook: SpecHook): void {
    this.lc.specHooks.push(hook);
  }

  /** Let `choose` pick the cgroup parent of new pods whose config names none (one chooser). */
  setCgroupParentChooser(choose: CgroupParentChooser | undefined): void {
    this.lc.parentChooser = choose;
  }

  get cgroupDriver(): 'cgroupfs' | 'systemd' {
    return this.lc.config.cgroupDriver;
  }

  // ---- pods
  runPodSandbox(config: PodSandboxConfig, handler: string, signal?: AbortSignal): Promise<SandboxRecord> {
    return runPodSandbox(this.lc, config, handler, signal);
  }

  /** Idempotent: an unknown id is fine (the kubelet retries). */
  async stopPodSandbox(id: string): Promise<void> {
    const p = findPod(this.lc, id);
    if (!p) return;
    await this.lc.locks.run(`pod:${p.id}`, async () => {
      const cur = this.lc.pods.get(p.id);
      if (cur && cur.phase !== 'removing') await stopSandboxLocked(this.lc, cur);
    });
  }

  async removePodSandbox(id: string): Promise<void> {
    const p = findPod(this.lc, id);
    if (!p) return;
    await this.lc.locks.run(`pod:${p.id}`, async () => {
      const cur = this.lc.pods.get(p.id);
      if (cur) await removeSandboxLocked(this.lc, cur);
    });
  }

  pod(id: string): SandboxRecord {
    return getPod(this.lc, id);
  }

  pods(): SandboxRecord[] {
    return this.lc.pods.all().filter((p) => p.phase !== 'creating');
  }

  // ---- containers
  createContainer(podId: string, config: ContainerConfig): Promise<ContainerRecord> {
    return createContainer(this.lc, podId, config);
  }

  startContainer(id: string): Promise<ContainerRecord> {
    return startContainer(this.lc, id);
  }

  async stopContainer(id: string, timeoutSec: number): Promise<void> {
    const c = getContainer(this.lc, id);
    await this.lc.locks.run(`ctr:${c.id}`, () => stopContainerLocked(this.lc, c, timeoutSec));
  }

  /** Idempotent: an unknown id is fine. */
  async removeContainer(id: string): Promise<void> {
    const c = findContainer(this.lc, id);
    if (!c) return;
    await this.lc.locks.run(`ctr:${c.id}`, () => removeContainerLocked(this.lc, c));
  }

  container(id: string): ContainerRecord {
    return getContainer(this.lc, id);
  }

  containers(): ContainerRecord[] {
    return this.lc.containers.all().filter((c) => c.phase !== 'creating');
  }

  execSync(id: string, cmd: string[], timeoutSec: number, signal?: AbortSignal): Promise<ExecResult> {
    return execSync(this.lc, id, cmd, timeoutSec, signal);
  }

  updateContainerResources(id: string, r: LinuxContainerResources | undefined, annotations: Record<string, string>): Promise<void> {
    return updateContainerResources(this.lc, id, r, annotations);
  }

  reopenContainerLog(id: string): Promise<void> {
    return reopenContainerLog(this.lc, id);
  }

  /**
   * What the stats sampler reads for a container (its own cgroup) or a pod (the pod cgroup the
   * kubelet made, i.e. the cgroup_parent; without one, the pause container's cgroup).
   */
  statsTarget(o: ContainerRecord | SandboxRecord): { id: string; pid: number; cgroupPath?: string; rwDir?: string; aggregate?: boolean } {
    const driver = this.lc.config.cgroupDriver;
    const path = (oci: string) => {
      try {
        return cgroupPathFromOci(driver, oci);
      } catch {
        return undefined;
      }
    };
    if ('podId' in o) return { id: o.id, pid: o.pid, cgroupPath: o.cgroupsPath ? path(o.cgroupsPath) : undefined, rwDir: o.rwDir };
    const parent = podConfigOf(o).linux?.cgroupParent;
    if (parent) return { id: o.id, pid: o.pid, cgroupPath: driver === 'systemd' ? expandSlice(parent.split('/').pop()!) : cleanCgroupPath(parent) };
    return { id: o.id, pid: o.pid, cgroupPath: o.cgroupsPath ? path(o.cgroupsPath) : undefined, aggregate: true };
  }

  /** The backend of the streaming server (exec / attach / port-forward). */
  streamingRuntime(): StreamingRuntime {
    return streamingBackend(this.lc);
  }

  /** berthd stopping: drop connections and log copiers; shims and containers keep running. */
  async close(): Promise<void> {
    for (const io of this.lc.io.values()) await io.close();
    this.lc.io.clear();
    this.lc.shims.closeAll();
    await this.shimEvents.close();
  }
}
