import { describe, expect, it } from 'vitest';
import { parseResult, podIps, ResultError } from '../../../src/network/cni/result.js';

/** What bridge 1.1.1 printed for a 1.0.0 config (dual stack added by hand). */
const v100 = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'berth0', mac: '6e:af:e0:68:32:b8' },
    { name: 'veth0879963b', mac: '22:b9:9a:42:9e:99' },
    { name: 'eth0', mac: '7a:9f:bd:33:e3:55', sandbox: '/run/berth/netns/p1' },
  ],
  ips: [
    { interface: 2, address: 'fd00:88::5/64', gateway: 'fd00:88::1' },
    { interface: 2, address: '10.88.0.5/16', gateway: '10.88.0.1' },
    { interface: 0, address: '10.88.0.1/16' },
  ],
  routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00:88::1', priority: 10 }],
  dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'], options: ['ndots:5'] },
};

/** The 0.4.0 shape: ips carry "version". */
const v040 = {
  cniVersion: '0.4.0',
  interfaces: [{ name: 'cni0' }, { name: 'vethx' }, { name: 'eth0', sandbox: '/proc/1/ns/net' }],
  ips: [{ version: '4', interface: 2, address: '10.22.0.9/24', gateway: '10.22.0.1' }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.22.0.1' }],
  dns: {},
};

describe('CNI results', () => {
  it('reads a 1.0.0 result', () => {
    const r = parseResult(v100, '1.0.0');
    expect(r.cniVersion).toBe('1.0.0');
    expect(r.interfaces[2]).toEqual({ name: 'eth0', mac: '7a:9f:bd:33:e3:55', mtu: undefined, sandbox: '/run/berth/netns/p1' });
    expect(r.ips[1]).toEqual({ address: '10.88.0.5/16', ip: '10.88.0.5', prefixLength: 16, family: 4, gateway: '10.88.0.1', interface: 2 });
    expect(r.ips[0]!.family).toBe(6);
    expect(r.routes).toEqual([{ dst: '0.0.0.0/0' }, { dst: '::/0', gw: 'fd00:88::1', priority: 10 }]);
    expect(r.dns).toEqual({ nameservers: ['10.96.0.10'], search: ['svc.cluster.local'], options: ['ndots:5'] });
    expect(r.raw).toBe(v100);
  });

  it('reads a 0.4.0 result and checks its version field', () => {
    const r = parseResult(v040, '0.4.0');
    expect(r.ips).toEqual([{ address: '10.22.0.9/24', ip: '10.22.0.9', prefixLength: 24, family: 4, gateway: '10.22.0.1', interface: 2 }]);
    expect(r.dns).toEqual({});
    expect(() => parseResult({ ...v040, ips: [{ version: '6', address: '10.0.0.1/8' }] }, '0.4.0')).toThrow(/version 6 does not match/);
  });

  it('picks pod IPs from the sandbox interface, IPv4 first', () => {
    expect(podIps(parseResult(v100, '1.0.0'), 'eth0')).toEqual(['10.88.0.5', 'fd00:88::5']);
    expect(podIps(parseResult(v040, '0.4.0'), 'eth0')).toEqual(['10.22.0.9']);
    expect(podIps(parseResult(v040, '0.4.0'), 'net1')).toEqual([]);
    // No interface indexes at all (e.g. an IPAM-only chain): every address counts.
    expect(podIps(parseResult({ cniVersion: '1.0.0', ips: [{ address: '10.1.0.2/24' }, { address: '10.1.0.2/24' }] }, '1.0.0'), 'eth0')).toEqual(['10.1.0.2']);
  });

  it('uses the config version when the result has none, and accepts empty results', () => {
    expect(parseResult({}, '0.3.1')).toMatchObject({ cniVersion: '0.3.1', interfaces: [], ips: [], routes: [], dns: {} });
  });

  it('refuses malformed results with a reason', () => {
    expect(() => parseResult('x', '1.0.0')).toThrow(ResultError);
    expect(() => parseResult({ ip4: { ip: '10.0.0.2/24' } }, '0.2.0')).toThrow(/older than 0.3.0/);
    expect(() => parseResult({ ips: [{ address: 'nonsense' }] }, '1.0.0')).toThrow(/ips\[0\]: "nonsense" is not an IP address/);
    expect(() => parseResult({ ips: [{ address: '10.0.0.1/33' }] }, '1.0.0')).toThrow(/bad prefix length/);
    expect(() => parseResult({ interfaces: [], ips: [{ address: '10.0.0.1/8', interface: 0 }] }, '1.0.0')).toThrow(/outside the 0 interfaces/);
    expect(() => parseResult({ routes: [{ gw: '10.0.0.1' }] }, '1.0.0')).toThrow(/routes\[0\] has no "dst"/);
    expect(() => parseResult({ interfaces: [{ mac: 'x' }] }, '1.0.0')).toThrow(/interfaces\[0\] has no name/);
  });
});
