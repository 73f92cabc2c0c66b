import { describe, expect, it } from 'vitest';
import { Capability } from '../../../src/gen/runtime/v1/api.js';
import { normalizeCapability, withCapabilityChanges, withDefaultCapabilities } from '../../../src/runtimes/oci/opts/capabilities.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, DEFAULT_CAPABILITIES, expectBerthError, hostFacts } from './helpers.js';

const host = hostFacts().capabilities;

async function capsAfter(add: string[], drop: string[]): Promise<string[]> {
  const spec = blankSpec();
  const ctx = ctxWith();
  await withDefaultCapabilities(spec, ctx);
  await withCapabilityChanges(Capability.fromPartial({ addCapabilities: add, dropCapabilities: drop }), host)(spec, ctx);
  const c = spec.process!.capabilities!;
  expect(c.effective).toEqual(c.bounding);
  expect(c.permitted).toEqual(c.bounding);
  expect(c.ambient).toBeUndefined();
  return c.bounding!;
}

describe('capabilities', () => {
  it('default set is containerd’s 14', async () => {
    expect(await capsAfter([], [])).toEqual(DEFAULT_CAPABILITIES);
    expect(DEFAULT_CAPABILITIES).toHaveLength(14);
  });

  it.each([
    ['add without prefix', ['NET_ADMIN'], [], { has: ['CAP_NET_ADMIN'], not: [] }],
    ['add with prefix, lower case', ['cap_sys_ptrace'], [], { has: ['CAP_SYS_PTRACE'], not: [] }],
    ['drop', [], ['CHOWN', 'CAP_KILL'], { has: ['CAP_SETUID'], not: ['CAP_CHOWN', 'CAP_KILL'] }],
    ['drop ALL then add one', ['NET_BIND_SERVICE'], ['ALL'], { has: ['CAP_NET_BIND_SERVICE'], not: ['CAP_CHOWN'] }],
    ['add ALL then drop one', ['ALL'], ['CHOWN'], { has: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'], not: ['CAP_CHOWN'] }],
    ['add ALL (lower case)', ['all'], [], { has: ['CAP_SYS_ADMIN'], not: ['CAP_SYS_RESOURCE'] }],
  ])('%s', async (_n, add, drop, want) => {
    const caps = await capsAfter(add, drop);
    for (const c of want.has) expect(caps).toContain(c);
    for (const c of want.not) expect(caps).not.toContain(c);
  });

  it('drop ALL alone leaves nothing', async () => {
    expect(await capsAfter([], ['ALL'])).toEqual([]);
  });

  it('add ALL gives exactly what berthd holds', async () => {
    expect(await capsAfter(['ALL'], [])).toEqual(host);
  });

  it('refuses unknown names and capabilities berthd lacks', async () => {
    expect(() => normalizeCapability('FLY')).toThrow(/unknown capability "FLY"/);
    await expectBerthError(() => capsAfter(['SYS_RESOURCE'], []), Code.FAILED_PRECONDITION, /CAP_SYS_RESOURCE/);
    await expectBerthError(() => capsAfter(['BOGUS'], []), Code.INVALID_ARGUMENT, /BOGUS/);
  });
});
