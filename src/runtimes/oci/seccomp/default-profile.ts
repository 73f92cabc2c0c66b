import { failedPrecondition } from '../../../util/errors.js';
import type { LinuxSeccomp, LinuxSyscall } from '../spec-types.js';
import {
  AF_ALG,
  AF_VSOCK,
  ALLOWED_PERSONAS,
  ARCH_SYSCALLS,
  BASE_SYSCALLS,
  CAPABILITY_SYSCALLS,
  CLONE_NAMESPACE_FLAGS,
  ENOSYS,
  SECCOMP_ARCHES,
} from './syscalls.js';

const allow = (names: readonly string[]): LinuxSyscall => ({ names: [...names], action: 'SCMP_ACT_ALLOW' });

/**
 * socket(2) for every family but AF_ALG and AF_VSOCK. Three one-condition rules (below,
 * between, above) rather than one rule with two "!=" conditions on the same argument,
 * which runtimes turn into an OR that would let both families through.
 */
function socketRules(): LinuxSyscall[] {
  return [
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }] },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_ALG + 1, op: 'SCMP_CMP_EQ' }] },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }] },
  ];
}

function personalityRules(): LinuxSyscall[] {
  return ALLOWED_PERSONAS.map((value) => ({
    names: ['personality'],
    action: 'SCMP_ACT_ALLOW' as const,
    args: [{ index: 0, value, op: 'SCMP_CMP_EQ' as const }],
  }));
}

/**
 * Without CAP_SYS_ADMIN: clone(2) only without namespace flags (flags are argument 0 on
 * x86_64 and aarch64), and clone3 answers ENOSYS so libc falls back to the filterable clone.
 */
function noAdminRules(): LinuxSyscall[] {
  return [
    {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
  ];
}

/**
 * berth's RuntimeDefault profile: deny (EPERM) by default, allow the base set, the
 * architecture's extras and the calls unlocked by capabilities in `bounding` (so it must be
 * built after the capabilities are final).
 */
export function defaultSeccompProfile(arch: string, bounding: readonly string[]): LinuxSeccomp {
  const architectures = SECCOMP_ARCHES[arch];
  if (!architectures) {
    throw failedPrecondition(`no default seccomp profile for architecture ${arch} (berth knows x64 and arm64)`);
  }
  const unlocked = new Set<string>();
  for (const cap of bounding) for (const name of CAPABILITY_SYSCALLS[cap] ?? []) unlocked.add(name);
  const syscalls: LinuxSyscall[] = [allow([...BASE_SYSCALLS, ...(ARCH_SYSCALLS[arch] ?? [])]), ...socketRules(), ...personalityRules()];
  if (unlocked.size > 0) syscalls.push(allow([...unlocked].sort()));
  if (!bounding.includes('CAP_SYS_ADMIN')) syscalls.push(...noAdminRules());
  return { defaultAction: 'SCMP_ACT_ERRNO', architectures: [...architectures], syscalls };
}
