/**
 * runAsNonRoot, verified before anything starts, as the kubelet does: the effective user must
 * not be 0, and when the manifest leaves the user to the image, the image's user must be
 * numeric and not 0.
 */
import type { CliContext } from '../context.js';
import { failure } from '../errors.js';
import type { PodPlan } from '../manifest/translate.js';
import { effectiveRunAs } from '../manifest/security.js';
import type { PodSpec } from '../manifest/schema.js';

/** The problem with running as `imageUser` under runAsNonRoot, if any (pure). */
export function nonRootProblem(container: string, runAsUser: number | undefined, image: string, imageUid: bigint | undefined, imageUsername: string): string | undefined {
  if (runAsUser !== undefined) return runAsUser === 0 ? `container ${container}: runAsNonRoot is set but runAsUser is 0` : undefined;
  if (imageUid === undefined && imageUsername && imageUsername !== 'root') {
    return `container ${container}: image ${image} runs as the non-numeric user ${JSON.stringify(imageUsername)}, so runAsNonRoot cannot be verified; set runAsUser`;
  }
  if (imageUid === undefined || imageUid === 0n) {
    return `container ${container}: runAsNonRoot is set but image ${image} runs as root; set runAsUser to a non-zero uid`;
  }
  return undefined;
}

export async function checkNonRoot(ctx: CliContext, plan: PodPlan): Promise<void> {
  const spec = { securityContext: plan.podSecurity } as PodSpec;
  for (const c of [...plan.init, ...plan.containers]) {
    const runAs = effectiveRunAs(spec, c.spec);
    if (!runAs.nonRoot) continue;
    let uid: bigint | undefined;
    let username = '';
    if (runAs.uid === undefined) {
      const st = await ctx.image.imageStatus({ image: { image: c.image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' }, verbose: false });
      uid = st.image?.uid?.value;
      username = st.image?.username ?? '';
    }
    const problem = nonRootProblem(c.name, runAs.uid, c.image, uid, username);
    if (problem) throw failure(problem);
  }
}
