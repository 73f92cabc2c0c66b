import { describe, expect, it } from 'vitest';
import { Device } from '../../../src/gen/runtime/v1/api.js';
import { splitDevT, propagationFromMountinfo } from '../../../src/runtimes/oci/host-probes.js';
import { capabilitiesFromMask, effectiveCapabilities } from '../../../src/runtimes/oci/host-facts.js';
import { devicePermissions, withCriDevices, withDenyAllDevices } from '../../../src/runtimes/oci/opts/devices.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, expectBerthError, fakeProbes } from './helpers.js';

describe('devices', () => {
  it('dev_t split', () => {
    expect(splitDevT(0x0103n)).toEqual({ major: 1, minor: 3 });
    expect(splitDevT(0x8801n)).toEqual({ major: 136, minor: 1 });
    // major 259 minor 1048576 (large numbers use the high bits)
    expect(splitDevT((259n << 8n) | (1048576n >> 8n << 20n) | (1048576n & 0xffn))).toEqual({ major: 259, minor: 1048576 });
  });

  it.each([
    ['', 'rwm'],
    ['r', 'r'],
    ['mrw', 'mrw'],
  ])('permissions %j → %s', (p, want) => {
    expect(devicePermissions(p, 'd')).toBe(want);
  });
  it.each(['x', 'rr', 'rwmr'])('permissions %j refused', async (p) => {
    await expectBerthError(() => devicePermissions(p, 'dev'), Code.INVALID_ARGUMENT, /permissions/);
  });

  it('CRI devices get nodes and cgroup allow rules after the deny-all rule', async () => {
    const probes = fakeProbes();
    probes.devices.set('/dev/fuse', [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
    const spec = blankSpec();
    const ctx = ctxWith(probes);
    await withDenyAllDevices(spec, ctx);
    await withCriDevices([Device.fromPartial({ hostPath: '/dev/fuse', containerPath: '/dev/myfuse', permissions: 'rw' })])(spec, ctx);
    expect(spec.linux!.devices).toEqual([{ path: '/dev/myfuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
    expect(spec.linux!.resources!.devices).toEqual([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    ]);
  });

  it('a missing host device is INVALID_ARGUMENT naming it', async () => {
    await expectBerthError(
      () => withCriDevices([Device.fromPartial({ hostPath: '/dev/nope', containerPath: '/dev/nope', permissions: 'r' })])(blankSpec(), ctxWith()),
      Code.INVALID_ARGUMENT,
      /\/dev\/nope.*no such file/,
    );
  });
});

describe('host probes (pure parts)', () => {
  const mountinfo = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '30 27 0:25 / /mnt/shared rw shared:5 - tmpfs tmpfs rw',
    '31 30 0:26 / /mnt/shared/slave rw master:5 - tmpfs tmpfs rw',
    '32 27 0:27 / /mnt/with\\040space rw shared:9 - tmpfs tmpfs rw',
  ].join('\n');
  it.each([
    ['/etc', 'private'],
    ['/mnt/shared', 'shared'],
    ['/mnt/shared/x/y', 'shared'],
    ['/mnt/shared/slave/z', 'slave'],
    ['/mnt/sharedness', 'private'],
    ['/mnt/with space/a', 'shared'],
  ])('%s is on a %s mount', (p, want) => {
    expect(propagationFromMountinfo(mountinfo, p)).toBe(want);
  });

  it('capability masks decode by bit', () => {
    expect(capabilitiesFromMask('0000000000000003')).toEqual(['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
    const all = capabilitiesFromMask('000001fffeffffff');
    expect(all).toHaveLength(40);
    expect(all).not.toContain('CAP_SYS_RESOURCE');
    expect(effectiveCapabilities('Name:\tx\nCapEff:\t0000000000200000\n')).toEqual(['CAP_SYS_ADMIN']);
  });
});
