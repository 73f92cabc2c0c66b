/**
 * Everything the pod/container lifecycle needs, built once by the daemon, plus the on-disk
 * layout. Operation files (sandbox-*.ts, container-*.ts …) take this as their first argument.
 */
import { join } from 'node:path';
import type { Config } from '../../daemon/config.js';
import type { ImageService } from '../../images/index.js';
import type { Logger } from '../../util/log.js';
import type { HostFacts } from '../oci/inputs.js';
import type { UserDb } from '../oci/user-db.js';
import type { HandlerRegistry } from '../registry.js';
import type { ShimManager } from '../shim/index.js';
import type { NameIndex } from '../../store/names.js';
import type { RecordStore } from '../../store/record-store.js';
import type { KeyedMutex } from './keyed-mutex.js';
import type { ContainerRecord, SandboxRecord } from './types.js';
import type { ContainerIo } from './container-io.js';
import type { ExitWatcher } from './exits.js';
import type { CniManager } from '../../network/cni/index.js';
import type { CgroupManager } from '../../cgroups/index.js';
import type { LifecycleEmitter, SpecHook } from './events.js';
import type { CgroupParentChooser } from './common.js';

export interface Layout {
  podsRoot: string; // <root>/pods/<id>: pod files, sandbox rw layer
  containersRoot: string; // <root>/containers/<id>: writable layer
  records: { pods: string; containers: string };
  bundles: string; // <state>/bundles/<id>
  podsState: string; // <state>/pods/<id>: shm
  io: string; // <state>/io/<id>: stdio fifos
  netns: string; // <state>/netns/<podId>
  runcRoot: string; // <state>/runc: runc's state for our shims
  events: string; // <state>/events.sock
}

export function layoutOf(config: Pick<Config, 'root' | 'state'>): Layout {
  return {
    podsRoot: join(config.root, 'pods'),
    containersRoot: join(config.root, 'containers'),
    records: { pods: join(config.root, 'records', 'pods'), containers: join(config.root, 'records', 'containers') },
    bundles: join(config.state, 'bundles'),
    podsState: join(config.state, 'pods'),
    io: join(config.state, 'io'),
    netns: join(config.state, 'netns'),
    runcRoot: join(config.state, 'runc'),
    events: join(config.state, 'events.sock'),
  };
}

export interface Lc {
  config: Config;
  layout: Layout;
  images: ImageService;
  handlers: HandlerRegistry;
  cni: CniManager;
  /** The host's cgroups (to keep knobs the runtime writes consistent with QoS ones). */
  cgroups?: CgroupManager;
  shims: ShimManager;
  pods: RecordStore<SandboxRecord>;
  containers: RecordStore<ContainerRecord>;
  podNames: NameIndex;
  containerNames: NameIndex;
  /** Per-object serialisation: key "pod:<id>" or "ctr:<id>". */
  locks: KeyedMutex;
  host: HostFacts;
  /** Parsed /etc/passwd + /etc/group per image id (images are immutable). */
  userDbs: Map<string, Promise<UserDb>>;
  /** Live stdio of running containers (log copiers), by container id. */
  io: Map<string, ContainerIo>;
  exits: ExitWatcher;
  events: LifecycleEmitter;
  specHooks: SpecHook[];
  /** Chooses the cgroup parent of pods without one (QoS: BE pods); unset → the default. */
  parentChooser?: CgroupParentChooser;
  log: Logger;
}
