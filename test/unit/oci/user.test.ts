import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Int64Value, LinuxContainerSecurityContext, LinuxSandboxSecurityContext, SupplementalGroupsPolicy } from '../../../src/gen/runtime/v1/api.js';
import { criUserString, loadUserDb, withContainerUser, withSandboxUser } from '../../../src/runtimes/oci/opts/user.js';
import { readFileInRoot, resolveInRoot } from '../../../src/runtimes/oci/rootfs-files.js';
import { memberGids, parseGroup, parsePasswd, resolveUser, type UserDb } from '../../../src/runtimes/oci/user-db.js';
import { Code } from '../../../src/util/errors.js';
import { blankSpec, ctxWith, expectBerthError, tempRootfs } from './helpers.js';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1::/:/bin/false
app:x:1000:1000:App:/home/app:/bin/sh
web:x:1001:33::/var/www:/bin/sh
broken:x:abc:1::/:/bin/sh
`;
const GROUP = `root:x:0:
www-data:x:33:app
app:x:1000:app
audio:x:29:app,web
video:x:44:web
wheel:x:10:
`;

const db: UserDb = { passwd: parsePasswd(PASSWD), group: parseGroup(GROUP), where: '/rootfs' };

describe('passwd / group parsing', () => {
  it('skips comments and malformed lines', () => {
    expect(db.passwd!.map((u) => u.name)).toEqual(['root', 'daemon', 'app', 'web']);
    expect(db.group!.find((g) => g.name === 'audio')!.members).toEqual(['app', 'web']);
  });
});

describe('resolveUser (image USER strings)', () => {
  it.each([
    ['app', { uid: 1000, gid: 1000 }],
    ['1000', { uid: 1000, gid: 1000 }],
    ['1001', { uid: 1001, gid: 33 }],
    ['4242', { uid: 4242, gid: 0 }],
    ['app:audio', { uid: 1000, gid: 29 }],
    ['app:7', { uid: 1000, gid: 7 }],
    ['1000:video', { uid: 1000, gid: 44 }],
    ['5:6', { uid: 5, gid: 6 }],
    ['0', { uid: 0, gid: 0 }],
  ])('%s', (user, want) => {
    expect(resolveUser(user, db)).toEqual(want);
  });

  it.each([
    ['nobody', /no such user/],
    ['app:nogroup', /no such group/],
    ['-1', /out of range/],
    ['2147483648', /out of range/],
    ['a:b:c', /invalid user/],
  ])('refuses %s', async (user, re) => {
    await expectBerthError(() => resolveUser(user, db), Code.INVALID_ARGUMENT, re);
  });

  it('a name without /etc/passwd is refused, a uid is not', async () => {
    const empty: UserDb = { where: '/r' };
    await expectBerthError(() => resolveUser('app', empty), Code.INVALID_ARGUMENT, /no \/etc\/passwd in \/r/);
    expect(resolveUser('77', empty)).toEqual({ uid: 77, gid: 0 });
  });

  it('member groups exclude the group named like the user', () => {
    expect(memberGids('app', db)).toEqual([33, 29]);
    expect(memberGids('1001', db)).toEqual([29, 44]);
    expect(memberGids('4242', db)).toEqual([]);
  });
});

describe('criUserString', () => {
  const v = (n: number) => Int64Value.fromPartial({ value: BigInt(n) });
  it.each([
    ['', undefined, undefined, ''],
    ['', v(1000), undefined, '1000'],
    ['', v(1000), v(29), '1000:29'],
    ['app', v(5), undefined, 'app'],
    ['app', undefined, v(29), 'app:29'],
  ])('username=%s uid=%o gid=%o', (name, uid, gid, want) => {
    expect(criUserString(name, uid, gid)).toBe(want);
  });
  it('a group without a user is refused', async () => {
    await expectBerthError(() => criUserString('', undefined, v(5)), Code.INVALID_ARGUMENT, /run_as_group 5/);
  });
});

describe('user resolution against a rootfs', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  async function rootfs(files: Record<string, string> = { 'etc/passwd': PASSWD, 'etc/group': GROUP }): Promise<string> {
    const t = await tempRootfs(files);
    cleanup = t.cleanup;
    return t.root;
  }

  async function containerUser(sc: Partial<LinuxContainerSecurityContext>, imageUser: string | undefined, root: string) {
    const spec = blankSpec();
    await withContainerUser(LinuxContainerSecurityContext.fromPartial(sc), { user: imageUser }, () => loadUserDb(root))(spec, ctxWith());
    return spec.process!.user;
  }

  it('image USER by name gets the primary gid and member groups', async () => {
    const root = await rootfs();
    expect(await containerUser({}, 'app', root)).toEqual({ uid: 1000, gid: 1000, additionalGids: [29, 33, 1000] });
  });

  it('run_as_user overrides the image; supplemental groups are merged, sorted, unique', async () => {
    const root = await rootfs();
    const u = await containerUser({ runAsUser: { value: 1001n }, supplementalGroups: [5n, 44n] }, 'app', root);
    expect(u).toEqual({ uid: 1001, gid: 33, additionalGids: [5, 29, 33, 44] });
  });

  it('run_as_username + run_as_group', async () => {
    const root = await rootfs();
    const u = await containerUser({ runAsUsername: 'web', runAsGroup: { value: 10n } }, undefined, root);
    expect(u).toEqual({ uid: 1001, gid: 10, additionalGids: [10, 29, 44] });
  });

  it('Strict policy ignores /etc/group membership', async () => {
    const root = await rootfs();
    const u = await containerUser(
      { supplementalGroupsPolicy: SupplementalGroupsPolicy.Strict, supplementalGroups: [7n] },
      'app',
      root,
    );
    expect(u).toEqual({ uid: 1000, gid: 1000, additionalGids: [7, 1000] });
  });

  it('no user anywhere is root with gid 0', async () => {
    const root = await rootfs({});
    expect(await containerUser({}, undefined, root)).toEqual({ uid: 0, gid: 0, additionalGids: [0] });
  });

  it('unknown username fails with the rootfs in the message', async () => {
    const root = await rootfs();
    await expectBerthError(() => containerUser({ runAsUsername: 'ghost' }, undefined, root), Code.INVALID_ARGUMENT, new RegExp(`ghost.*${root}`));
  });

  it('sandbox user: run_as_user + supplemental groups, no /etc/group lookup', async () => {
    const root = await rootfs();
    const spec = blankSpec();
    const sc = LinuxSandboxSecurityContext.fromPartial({ runAsUser: { value: 1000n }, supplementalGroups: [3n] });
    await withSandboxUser(sc, { user: 'root' }, () => loadUserDb(root))(spec, ctxWith());
    expect(spec.process!.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [3, 1000] });
  });

  it('an absolute /etc/passwd symlink resolves inside the rootfs, never on the host', async () => {
    const root = await rootfs({ 'etc/group': GROUP, 'alt/passwd': 'evil:x:4000:4000::/:/bin/sh\n' });
    // /etc/passwd -> /etc/../../../../etc/passwd would be the host's file if followed naively.
    await symlink('/../../../../../alt/passwd', join(root, 'etc/passwd'));
    const got = await loadUserDb(root);
    expect(got.passwd!.map((u) => u.name)).toEqual(['evil']);
    expect(got.passwd!.some((u) => u.name === 'root')).toBe(false);
  });

  it('a relative escape attempt is clamped at the rootfs', async () => {
    const root = await rootfs({});
    await mkdir(join(root, 'etc'));
    await symlink('../../../../../../../etc/passwd', join(root, 'etc/passwd'));
    // Clamped to <root>/etc/passwd, which is the link itself → a loop, not the host file.
    await expectBerthError(() => loadUserDb(root), Code.INVALID_ARGUMENT, /too many symbolic links/);
  });

  it('a link to a missing file means no /etc/passwd', async () => {
    const root = await rootfs({});
    await mkdir(join(root, 'etc'));
    await symlink('/nonexistent/passwd', join(root, 'etc/passwd'));
    expect((await loadUserDb(root)).passwd).toBeUndefined();
  });

  it('resolveInRoot follows directory links inside the root and refuses non-regular files', async () => {
    const root = await rootfs({ 'real/etc/passwd': 'root:x:0:0::/:/bin/sh\n' });
    await symlink('/real/etc', join(root, 'etc'));
    expect(await resolveInRoot(root, '/etc/passwd')).toBe(join(root, 'real/etc/passwd'));
    await mkdir(join(root, 'dir'));
    await expectBerthError(() => readFileInRoot(root, 'dir'), Code.INVALID_ARGUMENT, /not a regular file/);
    await writeFile(join(root, 'big'), 'x'.repeat(100));
    await expectBerthError(() => readFileInRoot(root, 'big', 10), Code.INVALID_ARGUMENT, /larger than 10 bytes/);
  });
});
