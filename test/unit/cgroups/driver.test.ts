import { describe, expect, it } from 'vitest';
import { cgroupPathFromOci, cleanCgroupPath, containerCgroup, driverOfParent, expandSlice, parentCgroupPath } from '../../../src/cgroups/driver.js';
import { BerthError, Code } from '../../../src/util/errors.js';

const UID = '0d5e7c44_1a2b_4c3d_9e8f_001122334455';
const ID = 'f'.repeat(64);

function expectInvalid(fn: () => unknown, match?: RegExp): void {
  try {
    fn();
    expect.fail('accepted invalid input');
  } catch (e) {
    expect(e).toBeInstanceOf(BerthError);
    expect((e as BerthError).code).toBe(Code.INVALID_ARGUMENT);
    if (match) expect((e as Error).message).toMatch(match);
  }
}

describe('expandSlice', () => {
  it('nests each dash level like systemd and runc', () => {
    expect(expandSlice('kubepods.slice')).toBe('/kubepods.slice');
    expect(expandSlice(`kubepods-burstable-pod${UID}.slice`)).toBe(
      `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID}.slice`,
    );
    expect(expandSlice('-.slice')).toBe('/');
  });
  it('rejects bad slice names', () => {
    for (const bad of ['kubepods', '.slice', 'a--b.slice', '-a.slice', 'a-.slice', 'a/b.slice', 'a b.slice', '..slice']) {
      expectInvalid(() => expandSlice(bad), /slice/);
    }
  });
});

describe('containerCgroup (cgroupfs)', () => {
  it('puts the container under the parent path; OCI cgroupsPath is the same path', () => {
    const c = containerCgroup('cgroupfs', { parent: `/kubepods/burstable/pod${UID}`, id: ID });
    expect(c.path).toBe(`/kubepods/burstable/pod${UID}/${ID}`);
    expect(c.parentPath).toBe(`/kubepods/burstable/pod${UID}`);
    expect(c.ociCgroupsPath).toBe(c.path);
    expect(c.unit).toBeUndefined();
  });
  it('normalises relative and doubled slashes, uses the default parent when empty', () => {
    expect(containerCgroup('cgroupfs', { parent: 'kubepods//besteffort/', id: 'abc' }).path).toBe('/kubepods/besteffort/abc');
    expect(containerCgroup('cgroupfs', { parent: '', id: 'abc' }).path).toBe('/berth/abc');
    expect(containerCgroup('cgroupfs', { parent: '/', id: 'abc' }).path).toBe('/abc');
  });
  it('rejects .., bad ids and a systemd slice given to cgroupfs', () => {
    expectInvalid(() => containerCgroup('cgroupfs', { parent: '/kubepods/../etc', id: ID }), /\.\./);
    expectInvalid(() => containerCgroup('cgroupfs', { parent: '/kubepods', id: '../x' }), /container id/);
    expectInvalid(() => containerCgroup('cgroupfs', { parent: '/kubepods', id: 'a/b' }));
    expectInvalid(() => containerCgroup('cgroupfs', { parent: '/kubepods', id: '' }));
    expectInvalid(() => containerCgroup('cgroupfs', { parent: 'kubepods-besteffort.slice', id: ID }), /systemd/);
  });
});

describe('containerCgroup (systemd)', () => {
  it('expands the slice and names a cri-containerd scope; OCI path is slice:prefix:id', () => {
    const parent = `kubepods-burstable-pod${UID}.slice`;
    const c = containerCgroup('systemd', { parent, id: ID });
    expect(c.path).toBe(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID}.slice/cri-containerd-${ID}.scope`);
    expect(c.parentPath).toBe(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID}.slice`);
    expect(c.ociCgroupsPath).toBe(`${parent}:cri-containerd:${ID}`);
    expect(c.unit).toBe(`cri-containerd-${ID}.scope`);
    expect(c.slice).toBe(parent);
    expect(cgroupPathFromOci('systemd', c.ociCgroupsPath)).toBe(c.path);
  });
  it('accepts an already expanded parent if it matches, and a custom prefix', () => {
    const c = containerCgroup('systemd', { parent: '/kubepods.slice/kubepods-besteffort.slice', id: 'abc', scopePrefix: 'berth' });
    expect(c.path).toBe('/kubepods.slice/kubepods-besteffort.slice/berth-abc.scope');
    expect(c.ociCgroupsPath).toBe('kubepods-besteffort.slice:berth:abc');
    expectInvalid(() => containerCgroup('systemd', { parent: '/other.slice/kubepods-besteffort.slice', id: 'abc' }), /does not match/);
  });
  it('uses berth.slice when the parent is empty and rejects bad slices', () => {
    expect(containerCgroup('systemd', { parent: '', id: 'abc' }).path).toBe('/berth.slice/cri-containerd-abc.scope');
    expectInvalid(() => containerCgroup('systemd', { parent: 'kubepods', id: 'abc' }), /\.slice/);
    expectInvalid(() => containerCgroup('systemd', { parent: 'kube--pods.slice', id: 'abc' }));
  });
});

describe('cgroupPathFromOci / parentCgroupPath / driverOfParent / cleanCgroupPath', () => {
  it('parses runc cgroupsPath forms', () => {
    expect(cgroupPathFromOci('cgroupfs', '/kubepods/pod1/abc')).toBe('/kubepods/pod1/abc');
    expect(cgroupPathFromOci('systemd', ':runc:abc')).toBe('/system.slice/runc-abc.scope');
    expect(cgroupPathFromOci('systemd', 'kubepods.slice:x:inner.slice')).toBe('/kubepods.slice/inner.slice');
    expectInvalid(() => cgroupPathFromOci('systemd', 'kubepods.slice'));
    expectInvalid(() => cgroupPathFromOci('cgroupfs', '/a/../b'));
  });
  it('guesses the driver from a parent', () => {
    expect(driverOfParent('kubepods-burstable.slice')).toBe('systemd');
    expect(driverOfParent('/kubepods/burstable')).toBe('cgroupfs');
    expect(driverOfParent('')).toBeUndefined();
    expect(parentCgroupPath('systemd', 'kubepods.slice')).toEqual({ path: '/kubepods.slice', slice: 'kubepods.slice' });
  });
  it('cleans paths', () => {
    expect(cleanCgroupPath('')).toBe('/');
    expect(cleanCgroupPath('a/b/')).toBe('/a/b');
    expectInvalid(() => cleanCgroupPath('/a/./b'));
    expectInvalid(() => cleanCgroupPath('/a\nb'));
  });
});
