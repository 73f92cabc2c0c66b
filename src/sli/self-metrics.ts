/**
 * berth's own SLIs: CRI request latency and errors per RPC, pod start latency per runtime
 * handler (RunPodSandbox received → first container running; also → sandbox ready), image
 * pull bytes and time. Live prom-client metrics fed by hooks the daemon connects
 * (cri/instrument observeCalls, images observePulls, lifecycle events), plus small running
 * totals for the JSON report.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { Code } from '../util/errors.js';

export interface CallRecord {
  service: string;
  rpc: string;
  durationMs: number;
  /** gRPC status code (0: OK). */
  code: number;
}

export interface PullRecord {
  ref: string;
  /** Layer bytes downloaded (layers already present count nothing). */
  bytes: number;
  durationMs: number;
  ok: boolean;
}

export interface RpcSummary {
  count: number;
  errors: number;
  meanMs: number;
  maxMs: number;
}

export interface SelfSummary {
  cri: Record<string, RpcSummary>;
  podStart: Record<string, { count: number; meanSeconds: number; maxSeconds: number }>;
  imagePulls: { count: number; failed: number; bytes: number; seconds: number };
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const START_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300];
const PULL_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export class SelfMetrics {
  private readonly callLatency: Histogram<'service' | 'rpc'>;
  private readonly callErrors: Counter<'service' | 'rpc' | 'code'>;
  private readonly podStart: Histogram<'runtime_handler'>;
  private readonly sandboxReady: Histogram<'runtime_handler'>;
  private readonly pullBytes: Counter<string>;
  private readonly pullSeconds: Histogram<'outcome'>;
  /** Pods whose first container has not started yet: id → (received, handler). */
  private readonly pending = new Map<string, { receivedAtNs: bigint; handler: string }>();
  private readonly rpcs = new Map<string, RpcSummary & { sumMs: number }>();
  private readonly starts = new Map<string, { count: number; sum: number; max: number }>();
  private readonly pulls = { count: 0, failed: 0, bytes: 0, seconds: 0 };

  constructor(registry: Registry) {
    const registers = [registry];
    this.callLatency = new Histogram({
      name: 'berth_cri_request_duration_seconds',
      help: 'Duration of CRI requests, by service and RPC (errors included).',
      labelNames: ['service', 'rpc'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.callErrors = new Counter({ name: 'berth_cri_request_errors_total', help: 'CRI requests that failed, by service, RPC and gRPC status code.', labelNames: ['service', 'rpc', 'code'], registers });
    this.podStart = new Histogram({
      name: 'berth_pod_start_duration_seconds',
      help: 'Time from RunPodSandbox received to the pod’s first container running, by runtime handler.',
      labelNames: ['runtime_handler'],
      buckets: START_BUCKETS,
      registers,
    });
    this.sandboxReady = new Histogram({
      name: 'berth_pod_sandbox_ready_duration_seconds',
      help: 'Time from RunPodSandbox received to the sandbox ready, by runtime handler.',
      labelNames: ['runtime_handler'],
      buckets: START_BUCKETS,
      registers,
    });
    this.pullBytes = new Counter({ name: 'berth_image_pull_bytes_total', help: 'Image layer bytes downloaded by pulls.', registers });
    this.pullSeconds = new Histogram({ name: 'berth_image_pull_duration_seconds', help: 'Duration of image pulls, by outcome (ok, error).', labelNames: ['outcome'], buckets: PULL_BUCKETS, registers });
  }

  recordCall(ev: CallRecord): void {
    const seconds = ev.durationMs / 1000;
    this.callLatency.observe({ service: ev.service, rpc: ev.rpc }, seconds);
    if (ev.code !== 0) this.callErrors.inc({ service: ev.service, rpc: ev.rpc, code: Code[ev.code] ?? String(ev.code) });
    const key = `${ev.service}/${ev.rpc}`;
    let s = this.rpcs.get(key);
    if (!s) this.rpcs.set(key, (s = { count: 0, errors: 0, meanMs: 0, maxMs: 0, sumMs: 0 }));
    s.count++;
    if (ev.code !== 0) s.errors++;
    s.sumMs += ev.durationMs;
    s.maxMs = Math.max(s.maxMs, ev.durationMs);
  }

  /** A sandbox became ready (lifecycle `pod-ready`). */
  podReady(podId: string, handler: string, receivedAtNs: bigint, readyAtNs: bigint = nowNs()): void {
    this.sandboxReady.observe({ runtime_handler: handler }, nsToSeconds(readyAtNs - receivedAtNs));
    this.pending.set(podId, { receivedAtNs, handler });
  }

  /** A container started (lifecycle `container-started`): the first one completes the pod start. */
  containerStarted(podId: string, startedAtNs: bigint = nowNs()): void {
    const p = this.pending.get(podId);
    if (!p) return;
    this.pending.delete(podId);
    const seconds = nsToSeconds(startedAtNs - p.receivedAtNs);
    this.podStart.observe({ runtime_handler: p.handler }, seconds);
    let s = this.starts.get(p.handler);
    if (!s) this.starts.set(p.handler, (s = { count: 0, sum: 0, max: 0 }));
    s.count++;
    s.sum += seconds;
    s.max = Math.max(s.max, seconds);
  }

  /** The pod stopped or went away before any container started. */
  podGone(podId: string): void {
    this.pending.delete(podId);
  }

  recordPull(p: PullRecord): void {
    this.pullBytes.inc(p.bytes);
    this.pullSeconds.observe({ outcome: p.ok ? 'ok' : 'error' }, p.durationMs / 1000);
    this.pulls.count++;
    if (!p.ok) this.pulls.failed++;
    this.pulls.bytes += p.bytes;
    this.pulls.seconds += p.durationMs / 1000;
  }

  summary(): SelfSummary {
    const cri: Record<string, RpcSummary> = {};
    for (const [k, s] of [...this.rpcs].sort(([a], [b]) => a.localeCompare(b))) {
      cri[k] = { count: s.count, errors: s.errors, meanMs: round3(s.sumMs / s.count), maxMs: round3(s.maxMs) };
    }
    const podStart: SelfSummary['podStart'] = {};
    for (const [h, s] of this.starts) podStart[h] = { count: s.count, meanSeconds: round3(s.sum / s.count), maxSeconds: round3(s.max) };
    return { cri, podStart, imagePulls: { ...this.pulls, seconds: round3(this.pulls.seconds) } };
  }
}

const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const nsToSeconds = (ns: bigint) => Math.max(0, Number(ns) / 1e9);
const round3 = (v: number) => Math.round(v * 1000) / 1000;
