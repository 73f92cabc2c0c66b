/**
 * What the SLI needs from the co-location QoS engine (src/qos), as a small interface of our
 * own so neither module imports the other: the daemon connects them, and without a QoS engine
 * the SLI still works (classes come from pod labels/annotations, QoS series are absent).
 */
import type { PodMeta } from './inventory.js';

export interface QosSnapshot {
  /** CPU the best-effort class may use now, in cores. */
  beAllowanceCores?: number;
  /** CPU the best-effort class uses now, in cores. */
  beUsedCores?: number;
  /** Cumulative count of suppression actions (BE CPU/memory squeezed). */
  suppressions?: number;
  /** Cumulative count of BE pods evicted. */
  evictions?: number;
  /** Pod id → co-location class ("LS", "BE" …). */
  podClasses?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
}

export interface QosView {
  snapshot(): QosSnapshot | undefined;
}

/** Labels/annotations that name a pod's co-location class when no QoS engine says. */
export const CLASS_KEYS = ['berth.dev/qos-class', 'koordinator.sh/qosClass'] as const;

export const DEFAULT_CLASS = 'LS';

export function classOf(pod: PodMeta, qos: QosSnapshot | undefined): { cls: string; source: 'qos' | 'pod' | 'default' } {
  const c = qos?.podClasses;
  const fromQos = c instanceof Map ? c.get(pod.id) : c ? (c as Record<string, string>)[pod.id] : undefined;
  if (fromQos) return { cls: fromQos, source: 'qos' };
  for (const k of CLASS_KEYS) {
    const v = pod.labels[k] ?? pod.annotations[k];
    if (v) return { cls: v, source: 'pod' };
  }
  return { cls: DEFAULT_CLASS, source: 'default' };
}

/** Best-effort pods get no verdict; every other class is latency-sensitive. */
export function isBestEffort(cls: string): boolean {
  return cls.toUpperCase() === 'BE';
}
