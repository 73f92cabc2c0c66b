import { SecurityProfile_ProfileType as ProfileType, type SecurityProfile } from '../../../gen/runtime/v1/api.js';
import { errnoCode, invalidArgument, messageOf } from '../../../util/errors.js';
import { defaultSeccompProfile } from '../seccomp/default-profile.js';
import { parseSeccompProfile } from '../seccomp/localhost.js';
import { ensureLinux, type SpecOpt } from '../spec-opt.js';
import { profileFromString } from './security.js';

export type SeccompChoice = { kind: 'unconfined' } | { kind: 'runtime-default' } | { kind: 'localhost'; path: string };

/**
 * Which seccomp profile a pod or container gets. The SecurityProfile field wins over the
 * deprecated seccomp_profile_path string; with neither, the runtime's `unsetProfile`
 * applies, and with that empty too, none (containerd's behaviour: the kubelet always says
 * what it wants). Privileged means unconfined. A Localhost profile must be an absolute path.
 */
export function chooseSeccomp(
  profile: SecurityProfile | undefined,
  deprecatedPath: string,
  unsetProfile: string,
  privileged: boolean,
): SeccompChoice {
  if (privileged) return { kind: 'unconfined' };
  const sp =
    profile ?? profileFromString(deprecatedPath, 'seccomp_profile_path') ?? profileFromString(unsetProfile, 'unset seccomp profile');
  if (!sp) return { kind: 'unconfined' };
  if (sp.profileType !== ProfileType.Localhost && sp.localhostRef) {
    throw invalidArgument('seccomp: localhost_ref may only be set for a Localhost profile');
  }
  switch (sp.profileType) {
    case ProfileType.Unconfined:
      return { kind: 'unconfined' };
    case ProfileType.RuntimeDefault:
      return { kind: 'runtime-default' };
    case ProfileType.Localhost: {
      const path = sp.localhostRef.replace(/^localhost\//, '');
      if (!path.startsWith('/')) {
        throw invalidArgument(`seccomp: Localhost profile must be an absolute path, got ${JSON.stringify(sp.localhostRef)}`);
      }
      return { kind: 'localhost', path };
    }
    default:
      throw invalidArgument(`seccomp: unknown profile type ${String(sp.profileType)}`);
  }
}

/**
 * Write the chosen profile. RuntimeDefault depends on the bounding capabilities, so this
 * option goes after every capability change.
 */
export function withSeccomp(choice: SeccompChoice, arch: string): SpecOpt {
  return async (spec, ctx) => {
    const linux = ensureLinux(spec);
    switch (choice.kind) {
      case 'unconfined':
        delete linux.seccomp;
        return;
      case 'runtime-default':
        linux.seccomp = defaultSeccompProfile(arch, spec.process?.capabilities?.bounding ?? []);
        return;
      case 'localhost': {
        let text: string;
        try {
          text = await ctx.probes.readFile(choice.path);
        } catch (err) {
          const why = errnoCode(err) === 'ENOENT' ? 'no such file' : messageOf(err);
          throw invalidArgument(`cannot load seccomp profile ${choice.path}: ${why}`, err);
        }
        linux.seccomp = parseSeccompProfile(text, choice.path);
        return;
      }
    }
  };
}
