import { describe, expect, it } from 'vitest';
import { Metrics as V1Metrics } from '../../../src/gen/containerd/cgroups/v1/metrics.js';
import { Metrics as V2Metrics } from '../../../src/gen/containerd/cgroups/v2/metrics.js';
import { shimMetricsToStats } from '../../../src/runtimes/kata/stats.js';

describe('stats from the shim (guest cgroups)', () => {
  it('maps cgroup v1 metrics: working set = usage − inactive file', () => {
    const metrics = V1Metrics.fromPartial({
      cpu: { usage: { total: 3_000_000_000n, user: 2_000_000_000n, kernel: 1_000_000_000n }, throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 5_000n } },
      memory: { usage: { usage: 100n << 20n, limit: 1n << 63n, max: 120n << 20n }, totalInactiveFile: 30n << 20n, totalRss: 60n << 20n, totalPgFault: 7n },
      memoryOomControl: { oomKill: 1n },
      pids: { current: 4n, limit: 0n },
    });
    const s = shimMetricsToStats('c1', { version: 'v1', metrics }, 1000);
    expect(s.path).toBe('shim:c1');
    expect(s.cpu).toMatchObject({ usageNs: 3e9, userNs: 2e9, systemNs: 1e9, throttledPeriods: 2 });
    expect(s.memory).toMatchObject({ usageBytes: 100 << 20, workingSetBytes: 70 << 20, limitBytes: 'max', rssBytes: 60 << 20, pgfault: 7, oomKills: 1 });
    expect(s.pids).toEqual({ current: 4 });
  });

  it('maps cgroup v2 metrics (microseconds to nanoseconds) and says when it cannot decode', () => {
    const metrics = V2Metrics.fromPartial({
      cpu: { usageUsec: 2_000_000n, userUsec: 1_500_000n, systemUsec: 500_000n },
      memory: { usage: 50n << 20n, usageLimit: 256n << 20n, inactiveFile: 10n << 20n, anon: 35n << 20n },
      memoryEvents: { oomKill: 2n },
      pids: { current: 2n, limit: 100n },
    });
    const s = shimMetricsToStats('c2', { version: 'v2', metrics }, 1000);
    expect(s.cpu?.usageNs).toBe(2e9);
    expect(s.memory).toMatchObject({ usageBytes: 50 << 20, workingSetBytes: 40 << 20, limitBytes: 256 << 20, rssBytes: 35 << 20, oomKills: 2 });
    expect(s.pids).toEqual({ current: 2, max: 100 });
    const u = shimMetricsToStats('c3', { version: 'unknown', typeUrl: 'x.Metrics', value: Buffer.alloc(0) }, 1);
    expect(u.partial?.reason).toBe('the shim answered Stats with x.Metrics, which berth cannot decode');
  });
});
