import { describe, expect, it } from 'vitest';
import {
  buildCniArgs,
  buildEnv,
  buildPluginStdin,
  checkContainerId,
  checkIfName,
  runtimeConfigFor,
} from '../../../src/network/cni/invocation.js';
import type { CapabilityArgs } from '../../../src/network/cni/types.js';

const caps: CapabilityArgs = {
  portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' }],
  bandwidth: { ingressRate: 1_000_000, ingressBurst: 2_000_000 },
  dns: { servers: ['10.96.0.10'], searches: ['svc.cluster.local'] },
  ipRanges: [[{ subnet: '10.250.1.0/24' }]],
  extra: { mac: '02:00:00:00:00:01' },
};

describe('CNI plugin invocation', () => {
  it('builds CNI_ARGS with IgnoreUnknown first and only the known pod keys', () => {
    expect(buildCniArgs({ podId: 'abc', podName: 'web', podNamespace: 'shop', podUid: 'u1' })).toBe(
      'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u1',
    );
    expect(buildCniArgs({ podId: 'abc' })).toBe('IgnoreUnknown=1;K8S_POD_INFRA_CONTAINER_ID=abc');
    expect(() => buildCniArgs({ podId: 'abc', podName: 'a;b' })).toThrow(/K8S_POD_NAME value "a;b" must not contain/);
  });

  it('builds the environment: CNI variables set, stray CNI_* dropped, sbin on PATH', () => {
    const env = buildEnv(
      { PATH: '/usr/bin', HOME: '/root', CNI_IFNAME: 'stale', CNI_FOO: 'x' },
      { command: 'ADD', containerId: 'abc', netns: '/run/netns/abc', ifName: 'eth0', cniArgs: 'IgnoreUnknown=1', binDirs: ['/a', '/b'] },
    );
    expect(env).toMatchObject({
      HOME: '/root',
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'abc',
      CNI_NETNS: '/run/netns/abc',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'IgnoreUnknown=1',
      CNI_PATH: '/a:/b',
    });
    expect(env.CNI_FOO).toBeUndefined();
    expect(env.PATH!.split(':')[0]).toBe('/usr/bin');
    expect(env.PATH!.split(':')).toContain('/usr/sbin');
    expect(env.PATH!.split(':').filter((d) => d === '/usr/bin')).toHaveLength(1);
  });

  it('gives a plugin only the capabilities it declares and the runtime has', () => {
    expect(runtimeConfigFor({ type: 'portmap', capabilities: { portMappings: true } }, caps)).toEqual({ portMappings: caps.portMappings });
    expect(runtimeConfigFor({ type: 'x', capabilities: { portMappings: false, bandwidth: true, dns: true, mac: true, ips: true } }, caps)).toEqual({
      bandwidth: caps.bandwidth,
      dns: caps.dns,
      mac: '02:00:00:00:00:01',
    });
    expect(runtimeConfigFor({ type: 'bridge' }, caps)).toEqual({});
    expect(runtimeConfigFor({ type: 'portmap', capabilities: { portMappings: true } }, { portMappings: [] })).toEqual({});
  });

  it('builds stdin: list name and version override, prevResult chained, runtimeConfig only when non-empty', () => {
    const prev = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/24' }] };
    const plugin = { type: 'portmap', capabilities: { portMappings: true }, snat: true, name: 'stale', cniVersion: '0.1.0', prevResult: { old: 1 } };
    const s = buildPluginStdin({ name: 'net', cniVersion: '1.0.0' }, plugin, caps, prev);
    expect(s).toEqual({
      type: 'portmap',
      capabilities: { portMappings: true },
      snat: true,
      name: 'net',
      cniVersion: '1.0.0',
      prevResult: prev,
      runtimeConfig: { portMappings: caps.portMappings },
    });
    const first = buildPluginStdin({ name: 'net', cniVersion: '1.0.0' }, { type: 'bridge', runtimeConfig: { keep: true } }, caps, undefined);
    expect(first).toEqual({ type: 'bridge', name: 'net', cniVersion: '1.0.0', runtimeConfig: { keep: true } });
  });

  it('validates container ids and interface names', () => {
    expect(() => checkContainerId('0123abc_.-x')).not.toThrow();
    expect(() => checkContainerId('-x')).toThrow(/not a valid CNI container id/);
    expect(() => checkContainerId('a/b')).toThrow();
    expect(() => checkIfName('eth0')).not.toThrow();
    expect(() => checkIfName('a-very-long-name0')).toThrow(/interface name/);
    expect(() => checkIfName('e/0')).toThrow();
  });
});
