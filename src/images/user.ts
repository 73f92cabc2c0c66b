/**
 * The image USER for CRI ImageStatus: `uid` when the user part (before ':') is numeric,
 * `username` when it is a name, neither when unset (what containerd reports).
 */
export interface ImageUser {
  uid?: number;
  username?: string;
}

export function imageUser(user: string | undefined): ImageUser {
  if (!user) return {};
  const name = user.split(':')[0];
  if (name === '') return {};
  if (/^[0-9]+$/.test(name)) {
    const uid = Number(name);
    if (Number.isSafeInteger(uid)) return { uid };
  }
  return { username: name };
}
