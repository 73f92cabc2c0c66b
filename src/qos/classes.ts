/**
 * A pod's QoS class and priority, from its annotations and labels (pure).
 *
 *   berth.dev/qos-class: BE          annotation, then label (LSE | LSR | LS | BE | SYSTEM)
 *   koordinator.sh/qosClass: BE      Koordinator's label (and annotation), honoured too
 *   berth.dev/priority: "100"        eviction order (lower goes first); koordinator.sh/priority too
 *   berth.dev/memory-request: 256Mi  container (or pod) annotation: memory protection for LS
 *
 * Without a class, pods the kubelet placed in its BestEffort QoS cgroup are
 * `defaultClass.kubeletBestEffort` (BE) and the rest `defaultClass.other` (LS).
 */
import type { Policy } from './policy/schema.js';
import { QOS_CLASSES, type QosClass } from './types.js';

export const CLASS_KEY = 'berth.dev/qos-class';
export const KOORD_CLASS_KEY = 'koordinator.sh/qosClass';
export const PRIORITY_KEY = 'berth.dev/priority';
export const KOORD_PRIORITY_KEY = 'koordinator.sh/priority';
export const MEMORY_REQUEST_KEY = 'berth.dev/memory-request';

export interface ClassInput {
  annotations: Record<string, string>;
  labels: Record<string, string>;
  cgroupParent: string;
}

export interface Classified {
  cls: QosClass;
  /** Where the class came from, e.g. "annotation berth.dev/qos-class" or "default (kubelet BestEffort)". */
  source: string;
  /** Set when a class value was present but not understood. */
  warning?: string;
}

function asClass(v: string | undefined): QosClass | undefined {
  if (v === undefined) return undefined;
  const up = v.trim().toUpperCase();
  return (QOS_CLASSES as readonly string[]).includes(up) ? (up as QosClass) : undefined;
}

/** The pod's kubelet QoS tier as `berth run` records it (Guaranteed | Burstable | BestEffort). */
export const TIER_KEY = 'berth.dev/qos-tier';

/** Was the pod placed in the kubelet's BestEffort cgroup (cgroupfs or systemd naming)? */
export function isKubeletBestEffort(cgroupParent: string): boolean {
  return /(^|[/-])besteffort([/.-]|$)/i.test(cgroupParent);
}

export function classify(pod: ClassInput, policy: Pick<Policy, 'defaultClass'>): Classified {
  const candidates: Array<[string | undefined, string]> = [
    [pod.annotations[CLASS_KEY], `annotation ${CLASS_KEY}`],
    [pod.labels[CLASS_KEY], `label ${CLASS_KEY}`],
    [pod.labels[KOORD_CLASS_KEY], `label ${KOORD_CLASS_KEY}`],
    [pod.annotations[KOORD_CLASS_KEY], `annotation ${KOORD_CLASS_KEY}`],
  ];
  let warning: string | undefined;
  for (const [value, source] of candidates) {
    if (value === undefined || value === '') continue;
    const cls = asClass(value);
    if (cls) return warning ? { cls, source, warning } : { cls, source };
    warning ??= `${source} ${JSON.stringify(value)} is not one of ${QOS_CLASSES.join(', ')}`;
  }
  // The kubelet's BestEffort tier shows in the pod's cgroup parent; pods run without a kubelet
  // (`berth run`) carry their tier in the berth.dev/qos-tier annotation instead.
  const tier = pod.annotations[TIER_KEY];
  const be = isKubeletBestEffort(pod.cgroupParent) || tier === 'BestEffort';
  const out: Classified = be
    ? { cls: policy.defaultClass.kubeletBestEffort, source: tier === 'BestEffort' ? `default (${TIER_KEY} BestEffort)` : 'default (kubelet BestEffort)' }
    : { cls: policy.defaultClass.other, source: 'default' };
  if (warning) out.warning = warning;
  return out;
}

/** Eviction priority: berth.dev/priority or koordinator.sh/priority (annotation or label), else 0. */
export function priorityOf(pod: Pick<ClassInput, 'annotations' | 'labels'>): number {
  for (const v of [pod.annotations[PRIORITY_KEY], pod.labels[PRIORITY_KEY], pod.labels[KOORD_PRIORITY_KEY], pod.annotations[KOORD_PRIORITY_KEY]]) {
    if (v !== undefined && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  }
  return 0;
}

const SUFFIX: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** A Kubernetes memory quantity ("256Mi", "1G", "1048576") in bytes; undefined if malformed. */
export function parseQuantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kMGTP]i?|)\s*$/.exec(text);
  if (!m) return undefined;
  const mult = SUFFIX[m[2]!];
  if (mult === undefined) return undefined;
  const v = Math.floor(Number(m[1]) * mult);
  return Number.isSafeInteger(v) ? v : undefined;
}
