import {
  SupplementalGroupsPolicy,
  type Int64Value,
  type LinuxContainerSecurityContext,
  type LinuxSandboxSecurityContext,
} from '../../../gen/runtime/v1/api.js';
import { invalidArgument } from '../../../util/errors.js';
import type { ImageConfig } from '../inputs.js';
import { readFileInRoot } from '../rootfs-files.js';
import { ensureProcess, type SpecOpt } from '../spec-opt.js';
import { memberGids, mergeGids, parseGroup, parsePasswd, resolveUser, type UserDb } from '../user-db.js';

/** Read the image's /etc/passwd and /etc/group without following links out of the rootfs. */
export async function loadUserDb(rootfs: string): Promise<UserDb> {
  const [passwd, group] = await Promise.all([readFileInRoot(rootfs, 'etc/passwd'), readFileInRoot(rootfs, 'etc/group')]);
  return {
    passwd: passwd === undefined ? undefined : parsePasswd(passwd),
    group: group === undefined ? undefined : parseGroup(group),
    where: rootfs,
  };
}

/**
 * The USER string a CRI security context asks for: run_as_username or run_as_user, with
 * ":<run_as_group>" when set; "" when none is set. A group without a user is refused.
 */
export function criUserString(username: string, uid: Int64Value | undefined, gid: Int64Value | undefined): string {
  let user = uid ? uid.value.toString() : '';
  if (username) user = username;
  const group = gid ? gid.value.toString() : '';
  if (!user) {
    if (group) throw invalidArgument(`run_as_group ${group} is set without run_as_user or run_as_username`);
    return '';
  }
  return group ? `${user}:${group}` : user;
}

function toGids(groups: readonly bigint[]): number[] {
  return groups.map((g) => {
    if (g < 0n || g > 2147483647n) throw invalidArgument(`supplemental group ${g} is out of range`);
    return Number(g);
  });
}

/** Set uid/gid from a USER string and the additional gids (always including the primary gid). */
function applyUser(spec: Parameters<SpecOpt>[0], userstr: string, db: UserDb, extraGids: number[]): void {
  const { uid, gid } = userstr ? resolveUser(userstr, db) : { uid: 0, gid: 0 };
  const user = ensureProcess(spec).user;
  user.uid = uid;
  user.gid = gid;
  user.additionalGids = mergeGids([gid], extraGids);
}

/**
 * The container's user: run_as_username / run_as_user (+ run_as_group), else the image's
 * USER, else root. With the Merge policy the groups in /etc/group that list the user are
 * added to the config's supplemental_groups; with Strict only the latter are.
 */
export function withContainerUser(sc: LinuxContainerSecurityContext | undefined, image: ImageConfig, userDb: () => Promise<UserDb>): SpecOpt {
  return async (spec) => {
    const fromCri = criUserString(sc?.runAsUsername ?? '', sc?.runAsUser, sc?.runAsGroup);
    const userstr = fromCri || image.user || '';
    const supplemental = toGids(sc?.supplementalGroups ?? []);
    const db = await userDb();
    const policy = sc?.supplementalGroupsPolicy ?? SupplementalGroupsPolicy.Merge;
    let extra: number[];
    if (policy === SupplementalGroupsPolicy.Merge) {
      // Groups are looked up for the user alone (the part before ":"), as containerd does.
      const groupUser =
        sc?.runAsUsername || (sc?.runAsUser ? sc.runAsUser.value.toString() : '') || (image.user ?? '').split(':')[0] || '0';
      extra = [...memberGids(groupUser, db), ...supplemental];
    } else if (policy === SupplementalGroupsPolicy.Strict) {
      extra = supplemental;
    } else {
      throw invalidArgument(`unknown supplemental_groups_policy ${String(policy)}`);
    }
    applyUser(spec, userstr, db, extra);
  };
}

/** The pause process's user: run_as_user (+ run_as_group) of the pod, else the image's USER. */
export function withSandboxUser(sc: LinuxSandboxSecurityContext | undefined, image: ImageConfig, userDb: () => Promise<UserDb>): SpecOpt {
  return async (spec) => {
    const userstr = criUserString('', sc?.runAsUser, sc?.runAsGroup) || image.user || '';
    const db = await userDb();
    applyUser(spec, userstr, db, toGids(sc?.supplementalGroups ?? []));
  };
}
