/** RuntimeService container RPCs: create/start/stop/remove, status, list, exec-sync, update, reopen log. */
import {
  ContainerState,
  ContainerStatus,
  ContainerStatusResponse,
  CreateContainerResponse,
  ExecSyncResponse,
  ListContainersResponse,
  Container,
  RemoveContainerResponse,
  ReopenContainerLogResponse,
  Signal,
  StartContainerResponse,
  StopContainerResponse,
  StreamContainersResponse,
  UpdateContainerResourcesResponse,
  LinuxContainerResources,
  type ContainerFilter,
} from '../gen/runtime/v1/api.js';
import type { ContainerRecord, Lifecycle } from '../runtimes/lifecycle/index.js';
import { containerConfigOf } from '../runtimes/lifecycle/common.js';
import { invalidArgument } from '../util/errors.js';
import { idMatches, labelsMatch } from './filters.js';
import type { RuntimeHandlers } from './server.js';

const STATE: Record<ContainerRecord['phase'], ContainerState> = {
  creating: ContainerState.CONTAINER_UNKNOWN,
  created: ContainerState.CONTAINER_CREATED,
  running: ContainerState.CONTAINER_RUNNING,
  exited: ContainerState.CONTAINER_EXITED,
  removing: ContainerState.CONTAINER_EXITED,
};

function signalEnum(name: string): Signal {
  const v = (Signal as unknown as Record<string, number>)[`SIGNAL_${name.toUpperCase().replace(/^(SIG)?/, 'SIG')}`];
  return v ?? Signal.SIGNAL_RUNTIME_DEFAULT;
}

export function toContainerStatus(c: ContainerRecord): ContainerStatus {
  const cfg = containerConfigOf(c);
  const resources = c.resources ? LinuxContainerResources.fromJSON(c.resources) : cfg.linux?.resources;
  return ContainerStatus.fromPartial({
    id: c.id,
    metadata: cfg.metadata,
    state: STATE[c.phase],
    createdAt: BigInt(c.createdAtNs),
    startedAt: BigInt(c.startedAtNs),
    finishedAt: BigInt(c.finishedAtNs),
    exitCode: c.exitCode,
    image: { image: c.image.name, annotations: cfg.image?.annotations ?? {}, userSpecifiedImage: cfg.image?.userSpecifiedImage ?? '' },
    imageRef: c.image.ref,
    imageId: c.image.id,
    reason: c.reason,
    message: c.message,
    labels: cfg.labels,
    annotations: cfg.annotations,
    mounts: cfg.mounts,
    logPath: c.logPath,
    resources: resources ? { linux: resources } : undefined,
    user: { linux: { uid: BigInt(c.user.uid), gid: BigInt(c.user.gid), supplementalGroups: c.user.additionalGids.map(BigInt) } },
    stopSignal: signalEnum(c.stopSignal),
  });
}

function toContainer(c: ContainerRecord): Container {
  const cfg = containerConfigOf(c);
  return Container.fromPartial({
    id: c.id,
    podSandboxId: c.podId,
    metadata: cfg.metadata,
    image: { image: c.image.name, annotations: cfg.image?.annotations ?? {} },
    imageRef: c.image.ref,
    imageId: c.image.id,
    state: STATE[c.phase],
    createdAt: BigInt(c.createdAtNs),
    labels: cfg.labels,
    annotations: cfg.annotations,
  });
}

function filterContainers(all: ContainerRecord[], f: ContainerFilter | undefined): ContainerRecord[] {
  return all.filter(
    (c) =>
      idMatches(c.id, f?.id) &&
      idMatches(c.podId, f?.podSandboxId) &&
      (f?.state === undefined || STATE[c.phase] === f.state.state) &&
      labelsMatch(containerConfigOf(c).labels, f?.labelSelector),
  );
}

export function containerHandlers(lc: Lifecycle): RuntimeHandlers {
  return {
    async createContainer(req) {
      if (!req.config) throw invalidArgument('CreateContainer: config is required');
      const c = await lc.createContainer(req.podSandboxId, req.config);
      return CreateContainerResponse.fromPartial({ containerId: c.id });
    },
    async startContainer(req) {
      await lc.startContainer(req.containerId);
      return StartContainerResponse.fromPartial({});
    },
    async stopContainer(req) {
      if (!req.containerId) throw invalidArgument('StopContainer: container_id is required');
      await lc.stopContainer(req.containerId, Number(req.timeout));
      return StopContainerResponse.fromPartial({});
    },
    async removeContainer(req) {
      if (!req.containerId) throw invalidArgument('RemoveContainer: container_id is required');
      await lc.removeContainer(req.containerId);
      return RemoveContainerResponse.fromPartial({});
    },
    async containerStatus(req) {
      const c = lc.container(req.containerId);
      const info: Record<string, string> = {};
      if (req.verbose) {
        info.info = JSON.stringify({ sandboxID: c.podId, pid: c.pid, bundle: c.bundle, image: c.image, stopSignal: c.stopSignal, oomKilled: c.oomKilled, cgroupsPath: c.cgroupsPath, config: c.config });
      }
      return ContainerStatusResponse.fromPartial({ status: toContainerStatus(c), info });
    },
    async listContainers(req) {
      return ListContainersResponse.fromPartial({ containers: filterContainers(lc.containers(), req.filter).map(toContainer) });
    },
    async streamContainers(req, _ctx, send) {
      const items = filterContainers(lc.containers(), req.filter).map(toContainer);
      for (let i = 0; i < items.length; i += 100) send(StreamContainersResponse.fromPartial({ containers: items.slice(i, i + 100) }));
    },
    async execSync(req, ctx) {
      const r = await lc.execSync(req.containerId, req.cmd, Number(req.timeout), ctx.signal);
      return ExecSyncResponse.fromPartial({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode });
    },
    async updateContainerResources(req) {
      await lc.updateContainerResources(req.containerId, req.linux, req.annotations);
      return UpdateContainerResourcesResponse.fromPartial({});
    },
    async reopenContainerLog(req) {
      await lc.reopenContainerLog(req.containerId);
      return ReopenContainerLogResponse.fromPartial({});
    },
  };
}
