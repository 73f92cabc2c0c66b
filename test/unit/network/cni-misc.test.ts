import { describe, expect, it } from 'vitest';
import { ResultCache } from '../../../src/network/cni/cache.js';
import { defaultConflist } from '../../../src/network/cni/default-config.js';
import { loopbackList, loopbackVersion } from '../../../src/network/cni/loopback.js';
import { sandboxAddresses, standInCommands } from '../../../src/network/cni/netns-standin.js';
import { capabilityArgsOf, podNetworkOf, toPortMappings } from '../../../src/network/cni/pod-request.js';
import { compareVersions, delGetsPrevResult, pickVersion, supportsCheck } from '../../../src/network/cni/versions.js';

describe('CNI versions', () => {
  it('compares and picks versions', () => {
    expect(compareVersions('0.10.0', '0.4.0')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0', '1.0')).toBe(0);
    expect(supportsCheck('0.3.1')).toBe(false);
    expect(supportsCheck('0.4.0')).toBe(true);
    expect(delGetsPrevResult('1.0.0')).toBe(true);
    expect(pickVersion(['1.1.0', '1.0.0'], [['1.0.0', '1.1.0'], ['0.4.0', '1.0.0']])).toBe('1.0.0');
    expect(pickVersion(['1.1.0'], [['1.0.0']])).toBeUndefined();
    expect(loopbackVersion(['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'])).toBe('1.0.0');
    expect(loopbackVersion(['0.3.1'])).toBe('0.3.1');
    expect(loopbackList('1.0.0')).toMatchObject({ name: 'cni-loopback', plugins: [{ type: 'loopback' }] });
  });
});

describe('CNI pod requests', () => {
  it('turns CRI port mappings into the portMappings capability', () => {
    expect(
      toPortMappings([
        { hostPort: 8080, containerPort: 80, protocol: 'TCP' },
        { hostPort: 0, containerPort: 9090 },
        { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
      ]),
    ).toEqual([
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
    ]);
    expect(() => toPortMappings([{ hostPort: 70000, containerPort: 80 }])).toThrow(/host port 70000/);
    expect(() => toPortMappings([{ hostPort: 80, containerPort: 80, protocol: 'icmp' }])).toThrow(/not tcp, udp or sctp/);
  });

  it('collects capability arguments, leaving out empty ones', () => {
    expect(capabilityArgsOf({ podId: 'p', netnsPath: '/n', portMappings: [], dns: { servers: ['10.0.0.10'] } })).toEqual({ dns: { servers: ['10.0.0.10'] } });
  });

  it('builds the pod network from a result', () => {
    const raw = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/n' }], ips: [{ interface: 0, address: '10.88.0.2/16' }] };
    expect(podNetworkOf('berth', raw, '1.0.0', 'eth0', [])).toMatchObject({ network: 'berth', ips: ['10.88.0.2'], raw });
  });
});

describe('CNI stand-in namespace for DEL', () => {
  const raw = {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'br' }, { name: 'eth0', sandbox: '/gone' }],
    ips: [
      { interface: 1, address: '10.88.0.2/16' },
      { interface: 1, address: 'fd00::2/64' },
      { interface: 0, address: '10.88.0.1/16' },
    ],
  };
  it('takes the sandbox addresses of the pod interface from the cached result', () => {
    expect(sandboxAddresses(raw, 'eth0', '1.0.0')).toEqual(['10.88.0.2/16', 'fd00::2/64']);
    expect(sandboxAddresses(raw, 'net1', '1.0.0')).toEqual([]);
    expect(sandboxAddresses(undefined, 'eth0', '1.0.0')).toEqual([]);
    expect(sandboxAddresses({ ips: 'bad' }, 'eth0', '1.0.0')).toEqual([]);
  });
  it('creates the interface as a veth and adds the addresses', () => {
    expect(standInCommands('eth0', ['10.88.0.2/16', 'fd00::2/64'])).toBe(
      'link add eth0 type veth peer name bsi0\naddr add 10.88.0.2/16 dev eth0\naddr add fd00::2/64 dev eth0 nodad\n',
    );
    expect(standInCommands('bsi0', [])).toBe('link add bsi0 type veth peer name bsi1\n');
  });
});

describe('CNI cache and default config', () => {
  it('names cache files like libcni', () => {
    expect(new ResultCache('/c').pathOf({ networkName: 'berth', containerId: 'abc', ifName: 'eth0' })).toBe('/c/berth-abc-eth0.json');
  });
  it('generates the default bridge + portmap list', () => {
    expect(defaultConflist()).toEqual({
      cniVersion: '1.0.0',
      name: 'berth',
      plugins: [
        {
          type: 'bridge',
          bridge: 'berth0',
          isGateway: true,
          ipMasq: true,
          hairpinMode: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/16' }]], routes: [{ dst: '0.0.0.0/0' }] },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
    const dual = defaultConflist({ subnet6: 'fd00:88::/64', bridge: 'b1' }) as { plugins: { ipam?: unknown }[] };
    expect(dual.plugins[0]!.ipam).toEqual({
      type: 'host-local',
      ranges: [[{ subnet: '10.88.0.0/16' }], [{ subnet: 'fd00:88::/64' }]],
      routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
    });
  });
});
