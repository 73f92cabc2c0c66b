import { invalidArgument } from '../../util/errors.js';

/** One /etc/passwd line. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** One /etc/group line. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** An image's user databases; undefined when the file does not exist. */
export interface UserDb {
  passwd?: PasswdEntry[];
  group?: GroupEntry[];
  /** Where they were read from, for error messages. */
  where: string;
}

/** runc refuses ids above 2^31-1; so do we, up front. */
const MAX_ID = 2 ** 31 - 1;

function parseId(s: string): number | undefined {
  if (!/^\d+$/.test(s.trim())) return undefined;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

function lines(text: string): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** Parse /etc/passwd; lines without a numeric uid and gid are skipped, as libc does. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2] ?? '');
    const gid = parseId(f[3] ?? '');
    if (f[0] && uid !== undefined && gid !== undefined) out.push({ name: f[0], uid, gid });
  }
  return out;
}

/** Parse /etc/group; lines without a numeric gid are skipped. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2] ?? '');
    if (!f[0] || gid === undefined) continue;
    const members = (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    out.push({ name: f[0], gid, members });
  }
  return out;
}

/** A numeric user or group id in a USER string, range-checked; undefined for a name. */
function numericId(part: string, whole: string, kind: 'uid' | 'gid'): number | undefined {
  if (!/^[+-]?\d+$/.test(part)) return undefined;
  const n = Number(part);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ID) {
    throw invalidArgument(`invalid user ${JSON.stringify(whole)}: ${kind} out of range 0..${MAX_ID}`);
  }
  return n;
}

function userByName(db: UserDb, name: string): PasswdEntry {
  const u = db.passwd?.find((e) => e.name === name);
  if (!u) {
    const why = db.passwd ? 'no such user in' : 'no /etc/passwd in';
    throw invalidArgument(`cannot resolve user ${JSON.stringify(name)}: ${why} ${db.where}`);
  }
  return u;
}

function groupByName(db: UserDb, name: string): number {
  const g = db.group?.find((e) => e.name === name);
  if (!g) {
    const why = db.group ? 'no such group in' : 'no /etc/group in';
    throw invalidArgument(`cannot resolve group ${JSON.stringify(name)}: ${why} ${db.where}`);
  }
  return g.gid;
}

/**
 * The uid and primary gid for an OCI USER string (`name`, `uid`, `name:group`, `uid:gid`,
 * `uid:group`, `name:gid`), as containerd resolves it: a bare uid takes its gid from
 * /etc/passwd (0 when the uid is not listed); a name must be listed; with `:group` the
 * group is taken verbatim (numeric) or looked up in /etc/group.
 */
export function resolveUser(userstr: string, db: UserDb): { uid: number; gid: number } {
  const parts = userstr.split(':');
  if (parts.length === 1) {
    const uid = numericId(parts[0]!, userstr, 'uid');
    if (uid === undefined) {
      const u = userByName(db, parts[0]!);
      return { uid: u.uid, gid: u.gid };
    }
    const u = db.passwd?.find((e) => e.uid === uid);
    return { uid, gid: u ? u.gid : 0 };
  }
  if (parts.length === 2) {
    const [userPart, groupPart] = parts as [string, string];
    const uidNum = numericId(userPart, userstr, 'uid');
    const gidNum = numericId(groupPart, userstr, 'gid');
    const uid = uidNum ?? userByName(db, userPart).uid;
    const gid = gidNum ?? groupByName(db, groupPart);
    return { uid, gid };
  }
  throw invalidArgument(`invalid user ${JSON.stringify(userstr)}: expected user, uid, user:group or uid:gid`);
}

/**
 * The gids of the groups in /etc/group that list the user as a member (not the group
 * named like the user), for a user given by name or uid. A uid without a passwd entry has
 * none.
 */
export function memberGids(user: string, db: UserDb): number[] {
  let name = user;
  if (/^\d+$/.test(user)) {
    const u = db.passwd?.find((e) => e.uid === Number(user));
    if (!u) return [];
    name = u.name;
  }
  return (db.group ?? []).filter((g) => g.name !== name && g.members.includes(name)).map((g) => g.gid);
}

/** Sorted, de-duplicated union of gid lists. */
export function mergeGids(...lists: readonly number[][]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}
