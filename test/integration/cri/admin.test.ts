import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stat } from 'node:fs/promises';
import { startBerthd, type Berthd } from '../../helpers/berthd.js';
import { AdminClient, AdminError } from '../../../src/admin/client.js';

describe('admin API socket', () => {
  let d: Berthd;
  beforeAll(async () => {
    d = await startBerthd();
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  it('listens beside the CRI socket with mode 0660 and answers /v1/info', async () => {
    expect((await stat(d.adminSocket)).mode & 0o777).toBe(0o660);
    const admin = new AdminClient(d.adminSocket);
    const info = await admin.get<{ version: string; runtimeHandlers: Record<string, { supported: boolean }>; cgroup: { mode: string } }>('/v1/info');
    expect(info.runtimeHandlers.runc!.supported).toBe(true);
    expect(['v1', 'hybrid', 'v2']).toContain(info.cgroup.mode);
    const f = await admin.get<{ features: Record<string, { available: boolean }> }>('/v1/features');
    expect(f.features['cpu.shares']).toBeDefined();
  });

  it('answers unknown routes with 404 and a JSON error', async () => {
    const err = await new AdminClient(d.adminSocket).get('/v1/nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminError);
    expect((err as AdminError).status).toBe(404);
  });
});
