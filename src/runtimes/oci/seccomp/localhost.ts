import { z } from 'zod';
import { invalidArgument, messageOf } from '../../../util/errors.js';
import type { LinuxSeccomp } from '../spec-types.js';

const action = z.enum([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);
const op = z.enum(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);
const uint = z.number().int().nonnegative();

const arg = z.object({ index: uint, value: uint, valueTwo: uint.optional(), op });

/** A syscall rule; Docker-era profiles spell a single name as "name". */
const syscall = z
  .object({
    names: z.array(z.string()).optional(),
    name: z.string().optional(),
    action,
    errnoRet: uint.optional(),
    args: z.array(arg).nullish(),
  })
  .refine((s) => (s.names && s.names.length > 0) || s.name, { message: 'a syscall rule needs "names"' })
  .transform((s) => ({
    names: s.names && s.names.length > 0 ? s.names : [s.name!],
    action: s.action,
    ...(s.errnoRet !== undefined ? { errnoRet: s.errnoRet } : {}),
    ...(s.args && s.args.length > 0 ? { args: s.args } : {}),
  }));

/** An OCI `linux.seccomp` object; unknown keys (Docker's archMap …) are dropped. */
const profileSchema = z.object({
  defaultAction: action,
  defaultErrnoRet: uint.optional(),
  architectures: z.array(z.string()).nullish(),
  flags: z.array(z.string()).nullish(),
  listenerPath: z.string().optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z.array(syscall).nullish(),
});

/** Parse a Localhost profile; INVALID_ARGUMENT names the file and what is wrong. */
export function parseSeccompProfile(text: string, path: string): LinuxSeccomp {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`seccomp profile ${path} is not valid JSON: ${messageOf(err)}`);
  }
  const r = profileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw invalidArgument(`seccomp profile ${path} is not an OCI seccomp profile${at}: ${issue?.message ?? 'invalid'}`);
  }
  const p = r.data;
  const out: LinuxSeccomp = { defaultAction: p.defaultAction };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  if (p.architectures && p.architectures.length > 0) out.architectures = p.architectures;
  if (p.flags && p.flags.length > 0) out.flags = p.flags;
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;
  if (p.syscalls && p.syscalls.length > 0) out.syscalls = p.syscalls;
  return out;
}
