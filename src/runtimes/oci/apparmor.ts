/**
 * berth's default AppArmor profile for RuntimeDefault, loaded into the kernel at start when
 * the host has AppArmor enabled (as containerd loads its own). Where it cannot be loaded
 * (no apparmor_parser, a parser error), RuntimeDefault runs without an AppArmor profile and
 * berthd says so once, rather than asking runc for a profile the kernel does not know — which
 * would fail every container.
 */
import { writeFile, mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../../util/exec.js';
import type { Logger } from '../../util/log.js';
import { DEFAULT_APPARMOR_PROFILE } from './opts/security.js';

/** Written for berth: confine what a container should never need from the host. */
export function defaultProfileText(name = DEFAULT_APPARMOR_PROFILE): string {
  return [
    '#include <tunables/global>',
    '',
    `profile ${name} flags=(attach_disconnected,mediate_deleted) {`,
    '  #include <abstractions/base>',
    '  file,',
    '  network,',
    '  capability,',
    '  umount,',
    '  signal (send, receive) peer=@{profile_name},',
    '  signal (receive) peer=unconfined,',
    '  ptrace (trace, read, tracedby, readby) peer=@{profile_name},',
    '  deny mount,',
    '  deny pivot_root,',
    '  deny @{PROC}/kcore rwklx,',
    '  deny @{PROC}/sysrq-trigger rwklx,',
    '  deny @{PROC}/kmsg rwklx,',
    '  deny /sys/firmware/** rwklx,',
    '  deny /sys/kernel/security/** rwklx,',
    '  deny /sys/kernel/debug/** rwklx,',
    '}',
    '',
  ].join('\n');
}

/** Is the profile already in the kernel? */
async function loaded(name: string): Promise<boolean> {
  const text = await readFile('/sys/kernel/security/apparmor/profiles', 'utf8').catch(() => '');
  return text.split('\n').some((l) => l.startsWith(`${name} `));
}

/**
 * Load (or replace) the default profile. Returns its name when it is usable, undefined when
 * RuntimeDefault must run unconfined on this host (with the reason logged).
 */
export async function ensureDefaultProfile(log: Logger, name = DEFAULT_APPARMOR_PROFILE): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-apparmor-'));
  try {
    const file = join(dir, name);
    await writeFile(file, defaultProfileText(name));
    const r = await runCommand('apparmor_parser', ['-Kr', file], { what: 'loading the berth AppArmor profile', timeoutMs: 30_000 }).catch((err: unknown) => ({
      code: -1,
      stderr: (err as Error).message,
    }));
    if (r.code === 0 || (await loaded(name))) return name;
    log.warn({ profile: name, reason: r.stderr }, 'AppArmor is enabled but berth cannot load its default profile; RuntimeDefault containers run without AppArmor');
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
