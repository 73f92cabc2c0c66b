/**
 * What `berth qos simulate` shows (pure): per pod and cgroup, each knob whose value under the
 * proposed policy differs from what the policy in force sets now, and why — the pod's class
 * and the strategy that sets that knob, with its numbers.
 */
import { renderTable } from './output/table.js';
import { formatBytes } from './output/units.js';

export interface QosTarget {
  id: string;
  kind: string;
  name: string;
  knobs: Record<string, unknown>;
}

export interface QosPod {
  podId: string;
  name: string;
  namespace: string;
  cls: string;
  classSource?: string;
  targets: QosTarget[];
}

/** The parts of /v1/qos/status and /v1/qos/simulate answers the CLI reads. */
export interface QosDecisionDoc {
  be?: { allowanceCores?: number; limitedBy?: string; beUsedCores?: number; capacityCores?: number; policy?: string; cpus?: string };
  memory?: { phase?: string; usedPercent?: number; thresholdPercent?: number };
  cpuset?: { shared?: string };
  pods?: QosPod[];
  evictions?: { name?: string; message?: string }[];
  degraded?: { feature: string; reason: string }[];
}

export interface KnobChange {
  pod: string;
  target: string;
  knob: string;
  now: string;
  next: string;
  why: string;
}

export function showKnob(knob: string, v: unknown): string {
  if (v === undefined) return '-';
  if (v && typeof v === 'object' && 'quota' in v) {
    const c = v as { quota: number | 'max'; period: number };
    return c.quota === 'max' ? 'max' : `${c.quota}/${c.period}µs (${(c.quota / c.period).toFixed(2)} cores)`;
  }
  if (knob.startsWith('memory') && typeof v === 'number') return formatBytes(v);
  return String(v);
}

const BE_STATIC = new Set(['cpuIdle', 'cpuShares', 'blkioWeight', 'cgroupPriority', 'cpuBvtWarpNs']);
const PROTECTION = new Set(['memorySoftLimit', 'memoryLow', 'memoryMin']);

/** Why a knob of a pod of class `cls` is set as the proposed policy says. */
export function reasonFor(knob: string, cls: string, sim: QosDecisionDoc): string {
  const be = sim.be;
  const allowance = be ? `allowance ${be.allowanceCores ?? '?'} of ${be.capacityCores ?? '?'} cores${be.limitedBy ? `, limited by ${be.limitedBy}` : ''}` : 'allowance unknown';
  if (cls === 'BE') {
    if (knob === 'cpuMax') return `BE CPU suppression by CFS quota (${allowance})`;
    if (knob === 'cpusetCpus') return `BE CPU suppression by cpuset: CPUs ${be?.cpus ?? '?'} (${allowance})`;
    if (BE_STATIC.has(knob)) return 'BE class settings (policy be.*: SCHED_IDLE, lowest weights)';
    if (knob === 'memoryMax' || knob === 'memoryHigh') {
      const m = sim.memory;
      return `BE memory reclaim: ${m?.phase ?? '?'} (node memory ${m?.usedPercent ?? '?'}%, evict threshold ${m?.thresholdPercent ?? '?'}%)`;
    }
  }
  if (knob === 'cpusetCpus') return `${cls}: shared CPU pool ${sim.cpuset?.shared ?? '?'}`;
  if (knob === 'cpuBurst') return `${cls}: CPU burst over its quota (policy cpuBurstPercent)`;
  if (PROTECTION.has(knob)) return `${cls}: memory protection from its memory request (policy memoryProtection)`;
  return `${cls}: back to the pod's own settings`;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Every knob that would change, per pod and cgroup. */
export function qosChanges(now: QosDecisionDoc | undefined, sim: QosDecisionDoc): KnobChange[] {
  const out: KnobChange[] = [];
  const before = new Map((now?.pods ?? []).map((p) => [p.podId, p]));
  for (const p of sim.pods ?? []) {
    const pod = `${p.namespace}/${p.name}`;
    const old = before.get(p.podId);
    if (old && old.cls !== p.cls) {
      out.push({ pod, target: '(pod)', knob: 'class', now: old.cls, next: p.cls, why: `class from ${p.classSource ?? '?'}` });
    }
    const oldTargets = new Map((old?.targets ?? []).map((t) => [t.id, t]));
    for (const t of p.targets) {
      const prev = oldTargets.get(t.id)?.knobs ?? {};
      for (const [knob, v] of Object.entries(t.knobs)) {
        if (old && sameValue(prev[knob], v)) continue;
        out.push({ pod, target: `${t.kind === 'sandbox' ? 'sandbox' : t.name}`, knob, now: old ? showKnob(knob, prev[knob]) : '?', next: showKnob(knob, v), why: reasonFor(knob, p.cls, sim) });
      }
    }
  }
  return out;
}

/** The simulate report: a summary, then the changes table. */
export function simulateText(now: QosDecisionDoc | undefined, sim: QosDecisionDoc): string {
  const lines: string[] = [];
  const allowance = (d: QosDecisionDoc | undefined) => (d?.be?.allowanceCores !== undefined ? `${d.be.allowanceCores} cores` : 'n/a');
  lines.push(`BE CPU allowance: now ${allowance(now)}, with this policy ${allowance(sim)}`);
  if (sim.memory?.phase) lines.push(`memory: ${sim.memory.phase} (node ${sim.memory.usedPercent ?? '?'}% used, threshold ${sim.memory.thresholdPercent ?? '?'}%)`);
  for (const e of sim.evictions ?? []) lines.push(`would evict ${e.name ?? '?'}: ${e.message ?? ''}`);
  for (const d of sim.degraded ?? []) lines.push(`degraded: ${d.feature}: ${d.reason}`);
  if (!now?.pods) lines.push('(the QoS engine has not decided anything yet: every value is shown as new)');
  const changes = qosChanges(now, sim);
  lines.push('');
  if ((sim.pods ?? []).length === 0) lines.push('no pods on this node');
  else if (changes.length === 0) lines.push('no changes: every pod would keep its class and knobs');
  else {
    lines.push(
      renderTable(changes, [
        { header: 'POD', value: (c) => c.pod },
        { header: 'CGROUP', value: (c) => c.target },
        { header: 'KNOB', value: (c) => c.knob },
        { header: 'NOW', value: (c) => c.now },
        { header: 'WOULD BE', value: (c) => c.next },
        { header: 'WHY', value: (c) => c.why },
      ]).trimEnd(),
    );
  }
  return lines.join('\n') + '\n';
}

/** `berth qos status` table: pods and their classes (pure). */
export function qosStatusText(st: QosDecisionDoc & { enabled?: boolean; policy?: { source?: string } }): string {
  const lines = [`QoS ${st.enabled === false ? 'disabled' : 'enabled'}; policy from ${st.policy?.source ?? '?'}`];
  lines.push(`BE CPU allowance: ${st.be?.allowanceCores ?? 'n/a'} cores (BE using ${st.be?.beUsedCores ?? '?'}); memory: ${st.memory?.phase ?? 'n/a'}`);
  for (const d of st.degraded ?? []) lines.push(`degraded: ${d.feature}: ${d.reason}`);
  const pods = st.pods ?? [];
  lines.push('');
  lines.push(
    pods.length
      ? renderTable(pods, [
          { header: 'POD', value: (p) => `${p.namespace}/${p.name}` },
          { header: 'CLASS', value: (p) => p.cls },
          { header: 'FROM', value: (p) => p.classSource ?? '' },
        ]).trimEnd()
      : 'no pods',
  );
  return lines.join('\n') + '\n';
}
