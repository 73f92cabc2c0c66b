/**
 * Guest pull (CoCo, or Kata with imagePull "guest"): the image is pulled and unpacked by the
 * Kata agent inside the VM, never on the host. What the Kata shim needs for that, with no
 * snapshotter in between (Kata >= 3.18):
 *  - the sandbox spec carries io.katacontainers.config.runtime.experimental_force_guest_pull
 *    = "true", so the shim turns every container's rootfs into an image-guest-pull volume;
 *  - each container spec carries io.kubernetes.cri.image-name, the reference the agent
 *    pulls (the sandbox uses the guest's built-in pause image);
 *  - Create gets an empty rootfs mount list (nothing is mounted on the host).
 * The host only resolved the image's config (entrypoint, env, USER): its /etc/passwd is
 * not here, so only numeric users (and "root") can be resolved.
 */
import { failedPrecondition } from '../../util/errors.js';
import type { SpecImage } from '../backend.js';
import type { UserDb } from '../oci/user-db.js';

export const FORCE_GUEST_PULL = 'io.katacontainers.config.runtime.experimental_force_guest_pull';

/**
 * The reference the guest pulls: the digest the host resolved (so the guest runs exactly the
 * image whose config the spec was built from), else the name the user gave.
 */
export function guestImageRef(img: SpecImage): string {
  const byDigest = img.repoDigests.find((d) => d.includes('@sha256:'));
  if (byDigest) return byDigest;
  if (img.userSpecified) return img.userSpecified;
  if (img.repoTags[0]) return img.repoTags[0];
  if (img.name && !/^(sha256:)?[0-9a-f]{64}$/.test(img.name)) return img.name;
  throw failedPrecondition(`image ${img.id} has no repository name or digest that the guest could pull it by`);
}

/** The user database for an image pulled in the guest: only root is known by name. */
export function guestUserDb(imageName: string): UserDb {
  return {
    passwd: [{ name: 'root', uid: 0, gid: 0 }],
    group: [{ name: 'root', gid: 0, members: [] }],
    where: `image ${imageName} as the host sees it (it is pulled in the guest, so its /etc/passwd is not on the host: use a numeric USER or runAsUser)`,
  };
}
