/**
 * CNI specification versions berth speaks, and what each version allows (CHECK and a cached
 * prevResult on DEL arrived in 0.4.0).
 */

export const SUPPORTED_CNI_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export function isSupportedVersion(v: string): boolean {
  return (SUPPORTED_CNI_VERSIONS as readonly string[]).includes(v);
}

function parts(v: string): number[] {
  return v.split('.').map((p) => Number.parseInt(p, 10) || 0);
}

/** Negative, zero or positive like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function atLeast(v: string, min: string): boolean {
  return compareVersions(v, min) >= 0;
}

/** CHECK exists from 0.4.0 on. */
export function supportsCheck(v: string): boolean {
  return atLeast(v, '0.4.0');
}

/** From 0.4.0 on the runtime passes the cached ADD result as prevResult to DEL and CHECK. */
export function delGetsPrevResult(v: string): boolean {
  return atLeast(v, '0.4.0');
}

/**
 * The highest version in `wanted` (a 1.1 `cniVersions` list, or one version) that berth and
 * every plugin (their VERSION answers) support; undefined if none.
 */
export function pickVersion(wanted: string[], pluginSupport: string[][]): string | undefined {
  const ours = wanted.filter(isSupportedVersion).sort(compareVersions).reverse();
  return ours.find((v) => pluginSupport.every((s) => s.includes(v)));
}
