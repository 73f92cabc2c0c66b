/** SliRegistry renders the container families itself: the text must be exactly prom-client's. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { registerFamilies, type Scrape } from '../../../src/sli/families.js';
import { SliRegistry, valueText } from '../../../src/sli/prom-family.js';
import { buildReport } from '../../../src/sli/report.js';
import { SelfMetrics } from '../../../src/sli/self-metrics.js';
import { DEFAULT_THRESHOLDS } from '../../../src/sli/verdict.js';
import type { NodeSnapshot } from '../../../src/sli/node.js';
import type { PodEntity } from '../../../src/sli/view.js';
import { containerMeta, entity, podMeta, sample } from './fixtures.js';
import { parseExposition, samplesOf } from './prom-parse.js';

const node: NodeSnapshot = { timestampMs: 1, psi: {}, missing: {} };

function view(): PodEntity[] {
  const odd = podMeta('a', { name: 'we"b\\x\ny', namespace: 'ns' });
  const net = [{ name: 'eth0', rxBytes: 1e21, rxErrors: 0, txBytes: 0.5, txErrors: 1 }];
  return [
    entity(odd, 'LS', [
      { meta: containerMeta('c1', 'a', 'app'), sample: sample('c1', '/kubepods/a/c1') },
      { meta: containerMeta('c2', 'a', 'side'), sample: sample('c2', '/kubepods/a/c2', {}, { cpu: { usageNs: Number.MAX_SAFE_INTEGER }, psi: undefined }) },
    ], sample('a', '/kubepods/a', { kind: 'pod', network: net })),
  ];
}

async function render(reg: Registry): Promise<string> {
  const v = view();
  const features = { psiCgroup: { available: true } };
  const self = { cri: {}, podStart: {}, imagePulls: { count: 0, failed: 0, bytes: 0, seconds: 0 } };
  const report = buildReport({ view: v, node, qosConnected: false, thresholds: DEFAULT_THRESHOLDS, windowSeconds: 30, features, exporter: { path: '/metrics', listening: true }, self });
  const s: Scrape = { view: v, node, qosConnected: false, report, features, collectors: [{ name: 'cgroups', busySeconds: 0.25 }] };
  registerFamilies(reg, () => s);
  const m = new SelfMetrics(reg);
  m.recordCall({ service: 'RuntimeService', rpc: 'Version', durationMs: 2, code: 0 });
  const text = await reg.metrics();
  // berth_process_* read the live process: mask their values.
  return text.replace(/^(berth_process_[a-z_]+(?:\{[^}]*\})?) .*$/gm, '$1 0');
}

describe('SliRegistry', () => {
  it('renders byte for byte what prom-client renders, escaping included', async () => {
    const plain = await render(new Registry());
    const fast = await render(new SliRegistry());
    expect(fast).toBe(plain);
    const fams = parseExposition(fast);
    const cpu = samplesOf(fams, 'container_cpu_usage_seconds_total');
    expect(cpu).toHaveLength(3);
    expect(cpu[0]!.labels.pod).toBe('we"b\\x\ny');
    expect(samplesOf(fams, 'container_network_receive_bytes_total')[0]!.value).toBe(1e21);
  });

  it('formats values as prom-client does', () => {
    expect([NaN, Infinity, -Infinity, 0.5, 1e21, 3].map(valueText)).toEqual(['Nan', '+Inf', '-Inf', '0.5', '1e+21', '3']);
  });
});
