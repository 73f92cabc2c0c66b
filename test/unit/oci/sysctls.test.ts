import { describe, expect, it } from 'vitest';
import { normalizeSysctlName, validateSysctls } from '../../../src/runtimes/oci/opts/sysctls.js';
import { BerthError, Code } from '../../../src/util/errors.js';

const podNs = { hostNetwork: false, hostIpc: false };

describe('sysctls', () => {
  it.each([
    ['kernel.shmmax', podNs, true],
    ['kernel.shm_rmid_forced', podNs, true],
    ['kernel.msgmax', podNs, true],
    ['kernel.sem', podNs, true],
    ['fs.mqueue.msg_max', podNs, true],
    ['net.ipv4.ip_forward', podNs, true],
    ['net.core.somaxconn', podNs, true],
    ['kernel.hostname', podNs, false],
    ['vm.swappiness', podNs, false],
    ['kernel.semx', podNs, false],
    ['fs.file-max', podNs, false],
    ['net.ipv4.ip_forward', { hostNetwork: true, hostIpc: false }, false],
    ['kernel.shmmax', { hostNetwork: false, hostIpc: true }, false],
    ['kernel.shmmax', { hostNetwork: true, hostIpc: false }, true],
    ['net.core.somaxconn', { hostNetwork: false, hostIpc: true }, true],
  ])('%s with %o allowed=%s', (name, ns, ok) => {
    const run = () => validateSysctls({ [name]: '1' }, ns);
    if (ok) {
      expect(run()).toEqual({ [name]: '1' });
    } else {
      try {
        run();
        expect.fail('accepted');
      } catch (e) {
        expect((e as BerthError).code).toBe(Code.INVALID_ARGUMENT);
        expect((e as BerthError).message).toContain(name);
      }
    }
  });

  it('accepts slash-separated names and normalises them', () => {
    expect(normalizeSysctlName('net/ipv4/ip_forward')).toBe('net.ipv4.ip_forward');
    expect(normalizeSysctlName('net/ipv4/conf/eth0.100/rp_filter')).toBe('net.ipv4.conf.eth0/100.rp_filter');
    expect(normalizeSysctlName('net.ipv4.conf.eth0/100.rp_filter')).toBe('net.ipv4.conf.eth0/100.rp_filter');
    expect(validateSysctls({ 'kernel/shmmax': '5' }, podNs)).toEqual({ 'kernel.shmmax': '5' });
  });
});
