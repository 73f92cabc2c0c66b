import { describe, expect, it } from 'vitest';
import { SecurityProfile, SecurityProfile_ProfileType as T } from '../../../src/gen/runtime/v1/api.js';
import { chooseSeccomp, withSeccomp } from '../../../src/runtimes/oci/opts/seccomp.js';
import { defaultSeccompProfile } from '../../../src/runtimes/oci/seccomp/default-profile.js';
import { parseSeccompProfile } from '../../../src/runtimes/oci/seccomp/localhost.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, DEFAULT_CAPABILITIES, expectBerthError, fakeProbes } from './helpers.js';

const sp = (profileType: T, localhostRef = '') => SecurityProfile.fromPartial({ profileType, localhostRef });

describe('seccomp profile selection', () => {
  it.each([
    ['field RuntimeDefault', sp(T.RuntimeDefault), '', '', false, { kind: 'runtime-default' }],
    ['field Unconfined', sp(T.Unconfined), 'runtime/default', '', false, { kind: 'unconfined' }],
    ['field Localhost', sp(T.Localhost, '/var/lib/kubelet/seccomp/p.json'), '', '', false, { kind: 'localhost', path: '/var/lib/kubelet/seccomp/p.json' }],
    ['field Localhost with localhost/ prefix', sp(T.Localhost, 'localhost//p.json'), '', '', false, { kind: 'localhost', path: '/p.json' }],
    ['nothing at all: unconfined (as containerd)', undefined, '', '', false, { kind: 'unconfined' }],
    ['deprecated runtime/default', undefined, 'runtime/default', '', false, { kind: 'runtime-default' }],
    ['deprecated docker/default', undefined, 'docker/default', '', false, { kind: 'runtime-default' }],
    ['deprecated unconfined', undefined, 'unconfined', 'runtime/default', false, { kind: 'unconfined' }],
    ['deprecated localhost/', undefined, 'localhost//etc/p.json', '', false, { kind: 'localhost', path: '/etc/p.json' }],
    ['runtime unset profile', undefined, '', 'runtime/default', false, { kind: 'runtime-default' }],
    ['privileged beats everything', sp(T.RuntimeDefault), '', '', true, { kind: 'unconfined' }],
  ] as const)('%s', (_n, profile, path, unset, privileged, want) => {
    expect(chooseSeccomp(profile, path, unset, privileged)).toEqual(want);
  });

  it.each([
    [sp(T.Localhost, 'relative/p.json'), '', /absolute path/],
    [sp(T.RuntimeDefault, '/x'), '', /localhost_ref may only be set/],
    [undefined, 'foo/bar', /seccomp_profile_path "foo\/bar"/],
    [undefined, 'localhost/rel.json', /absolute path/],
  ])('refuses %o %s', async (profile, path, re) => {
    await expectBerthError(() => chooseSeccomp(profile, path, '', false), Code.INVALID_ARGUMENT, re);
  });
});

describe('default profile', () => {
  const names = (p: ReturnType<typeof defaultSeccompProfile>) => p.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names);

  it('denies by default and covers native + compat arches', () => {
    const x64 = defaultSeccompProfile('x64', DEFAULT_CAPABILITIES);
    expect(x64.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(x64.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(names(x64)).toContain('arch_prctl');
    const arm = defaultSeccompProfile('arm64', DEFAULT_CAPABILITIES);
    expect(arm.architectures).toEqual(['SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64']);
    expect(names(arm)).toContain('set_tls');
    expect(names(arm)).not.toContain('arch_prctl');
  });

  it('refuses unknown architectures', async () => {
    await expectBerthError(() => defaultSeccompProfile('riscv64', []), Code.FAILED_PRECONDITION, /riscv64/);
  });

  it('the default caps keep mount, unshare, setns, keyctl … out; chroot in', () => {
    const p = defaultSeccompProfile('x64', DEFAULT_CAPABILITIES);
    const allowed = names(p);
    for (const s of ['read', 'write', 'execve', 'openat', 'clock_gettime', 'chroot']) expect(allowed).toContain(s);
    for (const s of ['mount', 'unshare', 'setns', 'keyctl', 'add_key', 'swapon', 'reboot', 'init_module', 'bpf', 'clone3']) {
      expect(allowed).not.toContain(s);
    }
    expect(p.syscalls).toContainEqual({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 });
    const clone = p.syscalls!.find((s) => s.names.includes('clone'))!;
    expect(clone.args).toEqual([{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  });

  it('CAP_SYS_ADMIN unlocks mount & co and lifts the clone filter', () => {
    const p = defaultSeccompProfile('x64', [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']);
    const allowed = names(p);
    for (const s of ['mount', 'unshare', 'setns', 'clone', 'clone3', 'kcmp']) expect(allowed).toContain(s);
    expect(p.syscalls!.some((s) => s.action === 'SCMP_ACT_ERRNO')).toBe(false);
  });

  it('without CAP_SYS_CHROOT there is no chroot', () => {
    expect(names(defaultSeccompProfile('x64', ['CAP_CHOWN']))).not.toContain('chroot');
  });

  it('socket: everything but AF_ALG (38) and AF_VSOCK (40)', () => {
    const rules = defaultSeccompProfile('x64', []).syscalls!.filter((s) => s.names.includes('socket'));
    const allows = (family: number) =>
      rules.some((r) => r.args!.every((a) => (a.op === 'SCMP_CMP_LT' ? family < a.value : a.op === 'SCMP_CMP_EQ' ? family === a.value : family > a.value)));
    expect([1, 2, 10, 16, 17, 39, 41, 44].every(allows)).toBe(true);
    expect(allows(38)).toBe(false);
    expect(allows(40)).toBe(false);
  });

  it('withSeccomp builds from the final bounding set', async () => {
    const spec = blankSpec();
    spec.process!.capabilities = { bounding: ['CAP_SYS_ADMIN'] };
    await withSeccomp({ kind: 'runtime-default' }, 'x64')(spec, ctxWith());
    expect(names(spec.linux!.seccomp!)).toContain('mount');
  });
});

describe('Localhost profiles', () => {
  it('are read and parsed; Docker-era "name" rules and archMap are accepted', async () => {
    const probes = fakeProbes();
    probes.files.set(
      '/p.json',
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ERRNO',
        archMap: [{ architecture: 'SCMP_ARCH_X86_64' }],
        syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [] }, { name: 'exit', action: 'SCMP_ACT_ALLOW' }],
      }),
    );
    const spec = blankSpec();
    await withSeccomp({ kind: 'localhost', path: '/p.json' }, 'x64')(spec, ctxWith(probes));
    expect(spec.linux!.seccomp).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        { names: ['exit'], action: 'SCMP_ACT_ALLOW' },
      ],
    });
  });

  it('a missing file is INVALID_ARGUMENT naming the path', async () => {
    await expectBerthError(
      () => withSeccomp({ kind: 'localhost', path: '/nope.json' }, 'x64')(blankSpec(), ctxWith()),
      Code.INVALID_ARGUMENT,
      /\/nope\.json: no such file/,
    );
  });

  it.each([
    ['{not json', /not valid JSON/],
    ['{"syscalls":[]}', /defaultAction/],
    ['{"defaultAction":"SCMP_ACT_NOPE"}', /defaultAction/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}', /syscalls\.0/],
  ])('bad content %s is refused with the path', async (text, re) => {
    const be = await expectBerthError(() => parseSeccompProfile(text, '/etc/p.json'), Code.INVALID_ARGUMENT, re);
    expect(be.message).toContain('/etc/p.json');
  });
});
