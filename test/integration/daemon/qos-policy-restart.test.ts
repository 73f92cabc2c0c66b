/**
 * A policy applied live over the admin API outlives berthd: with no qos.policyFile configured
 * it is saved to <root>/qos-policy.yaml, and a restart after kill -9 loads it again.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../../src/admin/client.js';
import { startBerthd, type Berthd } from '../../helpers/berthd.js';

interface PolicyStatus {
  policy: { cpuSuppressThresholdPercent: number; cpuSuppressPolicy: string };
  source: string;
}

let d: Berthd | undefined;
afterAll(async () => {
  await d?.cleanup();
});

describe('QoS policy across a berthd crash', () => {
  it('keeps the policy applied over the admin API after kill -9 and restart', async () => {
    d = await startBerthd();
    const file = join(d.root, 'qos-policy.yaml');
    const before = await new AdminClient(d.adminSocket).get<PolicyStatus>('/v1/qos/policy');
    expect(before.source).toBe('embedded defaults');
    expect(before.policy.cpuSuppressThresholdPercent).toBe(65);

    const yaml = 'cpuSuppressThresholdPercent: 55\ncpuSuppressPolicy: cfsQuota\n';
    const applied = await new AdminClient(d.adminSocket).request<PolicyStatus>('POST', '/v1/qos/policy', yaml);
    expect(applied).toMatchObject({ source: file, policy: { cpuSuppressThresholdPercent: 55 } });
    expect(await readFile(file, 'utf8')).toBe(yaml);

    await d.kill9();
    await d.restart();
    const after = await new AdminClient(d.adminSocket).get<PolicyStatus>('/v1/qos/policy');
    expect(after).toMatchObject({ source: file, policy: { cpuSuppressThresholdPercent: 55, cpuSuppressPolicy: 'cfsQuota' } });
  });
});
