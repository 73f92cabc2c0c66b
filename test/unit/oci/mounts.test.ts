import { describe, expect, it } from 'vitest';
import { Mount as CriMount, MountPropagation } from '../../../src/gen/runtime/v1/api.js';
import { bindFromCri, isCleanAbsolute, podFileBinds, withBindMounts, withDefaultMounts, withSandboxMounts } from '../../../src/runtimes/oci/opts/mounts.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, expectBerthError, fakeProbes } from './helpers.js';

const P = MountPropagation;
const m = (over: Partial<CriMount>) => CriMount.fromPartial({ hostPath: '/host/data', containerPath: '/data', ...over });

describe('CRI mount validation', () => {
  it.each([
    ['/data', true],
    ['/', true],
    ['/a/b', true],
    ['data', false],
    ['/a/../b', false],
    ['/a/./b', false],
    ['/a//b', false],
    ['/a/', false],
    ['', false],
  ])('container path %s clean=%s', (p, ok) => {
    expect(isCleanAbsolute(p)).toBe(ok);
  });

  it.each([
    [{ containerPath: 'data' }, /absolute, clean/],
    [{ containerPath: '/x/../etc' }, /absolute, clean/],
    [{ hostPath: 'rel' }, /host_path must be an absolute/],
    [{ recursiveReadOnly: true }, /needs readonly/],
    [{ recursiveReadOnly: true, readonly: true, propagation: P.PROPAGATION_HOST_TO_CONTAINER }, /private propagation/],
  ])('refuses %o', async (over, re) => {
    await expectBerthError(() => bindFromCri(m(over)), Code.INVALID_ARGUMENT, re);
  });

  it('selinux_relabel is accepted and ignored; image volumes are not supported', async () => {
    expect(bindFromCri(m({ selinuxRelabel: true })).containerPath).toBe('/data');
    await expectBerthError(() => bindFromCri(m({ image: { image: 'busybox' } as never })), Code.UNIMPLEMENTED, /image volumes/);
  });
});

async function mountsFor(cri: Partial<CriMount>[], opts: { rro?: boolean; propagation?: Record<string, 'shared' | 'slave' | 'private'> } = {}) {
  const probes = fakeProbes();
  for (const [k, v] of Object.entries(opts.propagation ?? {})) probes.propagation.set(k, v);
  const spec = blankSpec();
  const ctx = ctxWith(probes);
  await withDefaultMounts({ cgroup: true })(spec, ctx);
  const binds = cri.map((c) => bindFromCri(m(c)));
  const extra = podFileBinds(
    { hosts: '/pod/hosts', resolvConf: '/pod/resolv.conf', hostname: '/pod/hostname', shm: '/pod/shm' },
    { readonly: false, hostIpc: false, taken: binds.map((b) => b.containerPath) },
  );
  await withBindMounts(binds, extra, { recursiveReadOnlyMounts: opts.rro ?? false })(spec, ctx);
  return { spec, probes };
}

describe('bind mounts', () => {
  it('defaults, then pod files, with the pod /dev/shm replacing the default tmpfs', async () => {
    const { spec } = await mountsFor([]);
    const dests = spec.mounts!.map((x) => x.destination);
    expect(dests).toEqual(['/proc', '/dev', '/dev/pts', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/dev/shm']);
    const shm = spec.mounts!.find((x) => x.destination === '/dev/shm')!;
    expect(shm).toEqual({ destination: '/dev/shm', type: 'bind', source: '/pod/shm', options: ['rbind', 'rprivate', 'rw'] });
    expect(spec.mounts!.find((x) => x.destination === '/sys')!.options).toContain('ro');
    expect(spec.mounts!.find((x) => x.destination === '/sys/fs/cgroup')!.options).toContain('ro');
  });

  it('readonly, rw, and a CRI mount overriding a pod file', async () => {
    const { spec } = await mountsFor([
      { containerPath: '/etc/hosts', hostPath: '/mine/hosts', readonly: true },
      { containerPath: '/data' },
    ]);
    const hosts = spec.mounts!.filter((x) => x.destination === '/etc/hosts');
    expect(hosts).toEqual([{ destination: '/etc/hosts', type: 'bind', source: '/mine/hosts', options: ['rbind', 'rprivate', 'ro'] }]);
    expect(spec.mounts!.find((x) => x.destination === '/data')!.options).toEqual(['rbind', 'rprivate', 'rw']);
  });

  it('mounts are ordered by depth so parents come first', async () => {
    const { spec } = await mountsFor([
      { containerPath: '/a/b/c', hostPath: '/h1' },
      { containerPath: '/a', hostPath: '/h2' },
      { containerPath: '/a/b', hostPath: '/h3' },
    ]);
    const binds = spec.mounts!.filter((x) => x.destination.startsWith('/a')).map((x) => x.destination);
    expect(binds).toEqual(['/a', '/a/b', '/a/b/c']);
  });

  it('a CRI /dev mount drops every default mount under /dev', async () => {
    const { spec } = await mountsFor([{ containerPath: '/dev', hostPath: '/dev' }]);
    const dests = spec.mounts!.map((x) => x.destination);
    expect(dests).not.toContain('/dev/pts');
    expect(dests).not.toContain('/dev/mqueue');
    expect(dests).toContain('/dev/shm'); // the pod's bind, added after
  });

  it('propagation: private / rslave / rshared with the source checked', async () => {
    const { spec } = await mountsFor(
      [
        { containerPath: '/s', hostPath: '/shared', propagation: P.PROPAGATION_HOST_TO_CONTAINER },
        { containerPath: '/b', hostPath: '/bidir', propagation: P.PROPAGATION_BIDIRECTIONAL },
      ],
      { propagation: { '/shared': 'slave', '/bidir': 'shared' } },
    );
    expect(spec.mounts!.find((x) => x.destination === '/s')!.options).toEqual(['rbind', 'rslave', 'rw']);
    expect(spec.mounts!.find((x) => x.destination === '/b')!.options).toEqual(['rbind', 'rshared', 'rw']);
    expect(spec.linux!.rootfsPropagation).toBe('rshared');
  });

  it('host-to-container alone makes the root rslave', async () => {
    const { spec } = await mountsFor([{ containerPath: '/s', hostPath: '/x', propagation: P.PROPAGATION_HOST_TO_CONTAINER }], {
      propagation: { '/x': 'shared' },
    });
    expect(spec.linux!.rootfsPropagation).toBe('rslave');
  });

  it.each([
    [P.PROPAGATION_BIDIRECTIONAL, 'slave', /shared mount, it is slave/],
    [P.PROPAGATION_BIDIRECTIONAL, 'private', /shared mount, it is private/],
    [P.PROPAGATION_HOST_TO_CONTAINER, 'private', /shared or slave/],
  ] as const)('propagation %s on a %s source fails', async (prop, actual, re) => {
    await expectBerthError(
      () => mountsFor([{ containerPath: '/p', hostPath: '/src', propagation: prop }], { propagation: { '/src': actual } }),
      Code.FAILED_PRECONDITION,
      re,
    );
  });

  it('recursive read-only: rro when supported, refused otherwise', async () => {
    const want = { containerPath: '/r', hostPath: '/src', readonly: true, recursiveReadOnly: true };
    const { spec } = await mountsFor([want], { rro: true });
    expect(spec.mounts!.find((x) => x.destination === '/r')!.options).toEqual(['rbind', 'rprivate', 'rro']);
    await expectBerthError(() => mountsFor([want], { rro: false }), Code.INVALID_ARGUMENT, /recursive read-only/);
  });

  it('every bind source goes through prepareMountSource', async () => {
    const { probes } = await mountsFor([{ containerPath: '/d', hostPath: '/missing/dir' }]);
    expect(probes.prepared).toContain('/missing/dir');
  });

  it('pod files follow readonly rootfs; hostIPC uses the host /dev/shm', () => {
    const binds = podFileBinds({ hosts: '/h', shm: '/pod/shm' }, { readonly: true, hostIpc: true, taken: [] });
    expect(binds).toEqual([
      { containerPath: '/etc/hosts', hostPath: '/h', readonly: true, recursiveReadOnly: false, propagation: P.PROPAGATION_PRIVATE },
      { containerPath: '/dev/shm', hostPath: '/dev/shm', readonly: false, recursiveReadOnly: false, propagation: P.PROPAGATION_PRIVATE },
    ]);
  });
});

describe('sandbox mounts', () => {
  it('binds the pod shm and files read-only, without the default shm tmpfs', async () => {
    const spec = blankSpec();
    const ctx = ctxWith();
    await withDefaultMounts({ cgroup: false })(spec, ctx);
    await withSandboxMounts({ shm: '/pod/shm', resolvConf: '/pod/resolv.conf', hosts: '/pod/hosts', hostname: '/pod/hostname' }, false)(spec, ctx);
    const shm = spec.mounts!.filter((x) => x.destination === '/dev/shm');
    expect(shm).toEqual([{ destination: '/dev/shm', type: 'bind', source: '/pod/shm', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] }]);
    expect(spec.mounts!.map((x) => x.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/mqueue', '/sys', '/dev/shm', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname']);
  });
  it('hostIPC binds the host /dev/shm', async () => {
    const spec = blankSpec();
    await withSandboxMounts({ shm: '/pod/shm' }, true)(spec, ctxWith());
    expect(spec.mounts).toEqual([{ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] }]);
  });
});
