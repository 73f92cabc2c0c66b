/** RuntimeService pod RPCs: RunPodSandbox, Stop/Remove, PodSandboxStatus, ListPodSandbox (+ streaming list). */
import {
  ListPodSandboxResponse,
  NamespaceMode,
  PodSandbox,
  PodSandboxState,
  PodSandboxStatusResponse,
  RemovePodSandboxResponse,
  RunPodSandboxResponse,
  StopPodSandboxResponse,
  StreamPodSandboxesResponse,
  type PodSandboxFilter,
} from '../gen/runtime/v1/api.js';
import type { Lifecycle, SandboxRecord } from '../runtimes/lifecycle/index.js';
import { podConfigOf } from '../runtimes/lifecycle/common.js';
import { invalidArgument } from '../util/errors.js';
import { idMatches, labelsMatch } from './filters.js';
import type { RuntimeHandlers } from './server.js';
import { toContainerStatus } from './containers.js';

const stateOf = (p: SandboxRecord) => (p.phase === 'ready' ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY);

export function toPodSandbox(p: SandboxRecord): PodSandbox {
  const cfg = podConfigOf(p);
  return PodSandbox.fromPartial({
    id: p.id,
    metadata: cfg.metadata,
    state: stateOf(p),
    createdAt: BigInt(p.createdAtNs),
    labels: cfg.labels,
    annotations: cfg.annotations,
    runtimeHandler: p.handler,
  });
}

function filterPods(pods: SandboxRecord[], f: PodSandboxFilter | undefined): SandboxRecord[] {
  return pods.filter(
    (p) =>
      idMatches(p.id, f?.id) &&
      (f?.state === undefined || stateOf(p) === f.state.state) &&
      labelsMatch(podConfigOf(p).labels, f?.labelSelector),
  );
}

function verboseInfo(lc: Lifecycle, p: SandboxRecord): Record<string, string> {
  return {
    info: JSON.stringify({
      pid: p.pid,
      phase: p.phase,
      stoppedReason: p.stoppedReason,
      runtimeHandler: p.handler,
      runtimeType: lc.lc.handlers.get(p.handler)?.type ?? 'unknown',
      image: p.image,
      netNamespace: p.netnsPath ?? '(host)',
      hostNetwork: p.hostNetwork,
      cgroupsPath: p.cgroupsPath,
      bundle: p.bundle,
      shim: p.shim,
      config: p.config,
    }),
  };
}

export function podHandlers(lc: Lifecycle): RuntimeHandlers {
  return {
    async runPodSandbox(req, ctx) {
      if (!req.config) throw invalidArgument('RunPodSandbox: config is required');
      const p = await lc.runPodSandbox(req.config, req.runtimeHandler, ctx.signal);
      return RunPodSandboxResponse.fromPartial({ podSandboxId: p.id });
    },
    async stopPodSandbox(req) {
      if (!req.podSandboxId) throw invalidArgument('StopPodSandbox: pod_sandbox_id is required');
      await lc.stopPodSandbox(req.podSandboxId);
      return StopPodSandboxResponse.fromPartial({});
    },
    async removePodSandbox(req) {
      if (!req.podSandboxId) throw invalidArgument('RemovePodSandbox: pod_sandbox_id is required');
      await lc.removePodSandbox(req.podSandboxId);
      return RemovePodSandboxResponse.fromPartial({});
    },
    async podSandboxStatus(req) {
      const p = lc.pod(req.podSandboxId);
      const cfg = podConfigOf(p);
      const ns = cfg.linux?.securityContext?.namespaceOptions;
      return PodSandboxStatusResponse.fromPartial({
        status: {
          id: p.id,
          metadata: cfg.metadata,
          state: stateOf(p),
          createdAt: BigInt(p.createdAtNs),
          network: { ip: p.ip, additionalIps: p.additionalIps.map((ip) => ({ ip })) },
          linux: {
            namespaces: {
              options: {
                network: ns?.network ?? NamespaceMode.POD,
                pid: ns?.pid ?? NamespaceMode.CONTAINER,
                ipc: ns?.ipc ?? NamespaceMode.POD,
                targetId: ns?.targetId ?? '',
              },
            },
          },
          labels: cfg.labels,
          annotations: cfg.annotations,
          runtimeHandler: p.handler,
        },
        info: req.verbose ? verboseInfo(lc, p) : {},
        containersStatuses: lc.containers().filter((c) => c.podId === p.id).map(toContainerStatus),
        timestamp: BigInt(Date.now()) * 1_000_000n,
      });
    },
    async listPodSandbox(req) {
      return ListPodSandboxResponse.fromPartial({ items: filterPods(lc.pods(), req.filter).map(toPodSandbox) });
    },
    async streamPodSandboxes(req, _ctx, send) {
      const items = filterPods(lc.pods(), req.filter).map(toPodSandbox);
      for (let i = 0; i < items.length; i += 100) send(StreamPodSandboxesResponse.fromPartial({ podSandboxes: items.slice(i, i + 100) }));
    },
  };
}
