/**
 * Gathering one `berth top` frame: CRI ListPodSandbox + ListPodSandboxStats for CPU and
 * memory, the SLI report (/v1/sli) for throttling and per-pod PSI, the QoS status
 * (/v1/qos/status) for classes and the BE allowance, and /proc for the node. Admin routes a
 * berthd does not serve are remembered and skipped.
 */
import { readNodePressure } from '../../cgroups/stats.js';
import { AdminError } from '../../admin/client.js';
import { PodSandboxState, type PodSandbox, type PodSandboxStats } from '../../gen/runtime/v1/api.js';
import type { CliContext } from '../context.js';
import { QOS_CLASS } from '../labels.js';
import { cpuBusyBetween, readCpuTimes, readMeminfo, type CpuTimes } from '../node.js';
import type { NodeFrame, PodFrame } from './model.js';

interface SliPod {
  id: string;
  qosClass?: string;
  signals?: { cpuThrottledRatio?: number; psiAvg10?: { cpu?: number }; memoryLimitBytes?: number };
  containers?: { signals?: { cpuThrottledRatio?: number; psiAvg10?: { cpu?: number } } }[];
}

interface QosStatus {
  be?: { allowanceCores?: number; beUsedCores?: number };
  pods?: { podId: string; cls: string }[];
}

const maxOf = (xs: (number | undefined)[]) => xs.reduce<number | undefined>((m, x) => (x === undefined ? m : m === undefined ? x : Math.max(m, x)), undefined);

/** One pod's frame (pure). */
export function podFrame(p: PodSandbox, s: PodSandboxStats | undefined, sli: SliPod | undefined, qosClass: string | undefined): PodFrame {
  const cpu = s?.linux?.cpu?.usageNanoCores?.value;
  const mem = s?.linux?.memory?.workingSetBytes?.value;
  const containers = s?.linux?.containers ?? [];
  return {
    id: p.id,
    name: p.metadata?.name ?? '?',
    namespace: p.metadata?.namespace ?? '?',
    handler: p.runtimeHandler || 'default',
    qosClass: qosClass ?? p.annotations[QOS_CLASS] ?? sli?.qosClass ?? '',
    state: p.state === PodSandboxState.SANDBOX_READY ? 'Ready' : 'NotReady',
    cpuNanoCores: cpu === undefined ? undefined : Number(cpu),
    memoryBytes: mem === undefined ? undefined : Number(mem),
    memoryLimitBytes: sli?.signals?.memoryLimitBytes,
    throttledRatio: sli?.signals?.cpuThrottledRatio ?? maxOf((sli?.containers ?? []).map((c) => c.signals?.cpuThrottledRatio)),
    cpuPsi: sli?.signals?.psiAvg10?.cpu ?? maxOf((sli?.containers ?? []).map((c) => c.signals?.psiAvg10?.cpu)),
    containers: containers.length,
  };
}

export class TopCollector {
  private prevCpu: CpuTimes | undefined;
  private readonly missing = new Set<string>();

  constructor(private readonly ctx: CliContext) {}

  private async optional<T>(path: string): Promise<T | undefined> {
    if (this.missing.has(path)) return undefined;
    try {
      return await this.ctx.admin.get<T>(path);
    } catch (err) {
      if (err instanceof AdminError && err.status === 404) this.missing.add(path);
      return undefined;
    }
  }

  async node(qos: QosStatus | undefined): Promise<NodeFrame> {
    const [cpu, mem] = await Promise.all([readCpuTimes(), readMeminfo()]);
    const busy = this.prevCpu ? cpuBusyBetween(this.prevCpu, cpu) : undefined;
    this.prevCpu = cpu;
    const p = readNodePressure();
    return {
      cpuBusy: busy,
      cpus: cpu.cpus,
      memTotalBytes: mem.totalBytes,
      memUsedBytes: mem.totalBytes - mem.availableBytes,
      psi: { cpu: p.cpu?.some?.avg10, memory: p.memory?.some?.avg10, io: p.io?.some?.avg10 },
      beAllowanceCores: qos?.be?.allowanceCores,
      beUsedCores: qos?.be?.beUsedCores,
      beNote: this.missing.has('/v1/qos/status') ? 'this berthd has no QoS engine' : qos ? undefined : 'QoS status unavailable',
    };
  }

  async frame(): Promise<{ node: NodeFrame; pods: PodFrame[] }> {
    const [pods, stats, sli, qos] = await Promise.all([
      this.ctx.runtime.listPodSandbox({ filter: undefined }),
      this.ctx.runtime.listPodSandboxStats({ filter: undefined }),
      this.optional<{ pods?: SliPod[] }>('/v1/sli'),
      this.optional<QosStatus>('/v1/qos/status'),
    ]);
    const statsById = new Map(stats.stats.map((s) => [s.attributes?.id ?? '', s]));
    const sliById = new Map((sli?.pods ?? []).map((p) => [p.id, p]));
    const clsById = new Map((qos?.pods ?? []).map((p) => [p.podId, p.cls]));
    return {
      node: await this.node(qos),
      pods: pods.items.map((p) => podFrame(p, statsById.get(p.id), sliById.get(p.id), clsById.get(p.id))),
    };
  }
}
