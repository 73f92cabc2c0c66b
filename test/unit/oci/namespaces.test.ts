import { describe, expect, it } from 'vitest';
import { NamespaceMode as M, NamespaceOption } from '../../../src/gen/runtime/v1/api.js';
import { withContainerNamespaces, withSandboxNamespaces } from '../../../src/runtimes/oci/opts/namespaces.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, expectBerthError } from './helpers.js';

const ns = (o: Partial<NamespaceOption>) => NamespaceOption.fromPartial(o);

async function sandboxNs(o: Partial<NamespaceOption> | undefined, netns = '/run/berth/netns/p1') {
  const spec = blankSpec();
  await withSandboxNamespaces(o && ns(o), netns)(spec, ctxWith());
  return Object.fromEntries(spec.linux!.namespaces!.map((n) => [n.type, n.path ?? 'new']));
}

async function containerNs(o: Partial<NamespaceOption> | undefined, extra: { targetPid?: number; cgroupNamespace?: boolean } = {}) {
  const spec = blankSpec();
  await withContainerNamespaces({ opts: o && ns(o), sandboxPid: 42, targetPid: extra.targetPid, cgroupNamespace: extra.cgroupNamespace ?? false })(spec, ctxWith());
  return Object.fromEntries(spec.linux!.namespaces!.map((n) => [n.type, n.path ?? 'new']));
}

describe('sandbox namespaces', () => {
  it('pod network namespace by path, new pid/ipc/uts/mount', async () => {
    expect(await sandboxNs(undefined)).toEqual({ pid: 'new', ipc: 'new', uts: 'new', mount: 'new', network: '/run/berth/netns/p1' });
  });
  it('hostNetwork drops network and uts; hostPID / hostIPC drop theirs', async () => {
    expect(await sandboxNs({ network: M.NODE, pid: M.NODE, ipc: M.NODE }, '')).toEqual({ mount: 'new' });
  });
  it('shareProcessNamespace (POD) keeps a new pid namespace for the pause process', async () => {
    expect((await sandboxNs({ pid: M.POD })).pid).toBe('new');
  });
  it('user namespaces are not supported yet', async () => {
    await expectBerthError(() => sandboxNs({ usernsOptions: { mode: M.POD, uids: [], gids: [] } }), Code.UNIMPLEMENTED, /user namespaces/);
  });
});

describe('container namespaces', () => {
  it.each([
    ['POD joins the sandbox pid ns', { pid: M.POD }, '/proc/42/ns/pid'],
    ['CONTAINER gets its own', { pid: M.CONTAINER }, 'new'],
    ['NODE joins the sandbox (host) pid ns', { pid: M.NODE }, '/proc/42/ns/pid'],
  ])('%s', async (_n, o, want) => {
    const got = await containerNs(o);
    expect(got.pid ?? 'none').toBe(want);
    expect(got).toMatchObject({ network: '/proc/42/ns/net', ipc: '/proc/42/ns/ipc', uts: '/proc/42/ns/uts', mount: 'new' });
  });
  it('TARGET joins the target container', async () => {
    expect((await containerNs({ pid: M.TARGET, targetId: 'c0' }, { targetPid: 77 })).pid).toBe('/proc/77/ns/pid');
    await expectBerthError(() => containerNs({ pid: M.TARGET }), Code.INVALID_ARGUMENT, /target_id/);
    await expectBerthError(() => containerNs({ pid: M.TARGET, targetId: 'c0' }), Code.INTERNAL, /c0/);
  });
  it('cgroup namespace on request', async () => {
    expect((await containerNs(undefined, { cgroupNamespace: true })).cgroup).toBe('new');
    expect((await containerNs(undefined)).cgroup).toBeUndefined();
  });
});
