/**
 * Platform selection for multi-platform images (OCI index / Docker manifest list), following
 * containerd's rules: names are normalised (x86_64 → amd64, aarch64 → arm64, arm64/v8 ≡ arm64,
 * arm ≡ arm/v7), and a host accepts, in order of preference, its own platform, then older
 * compatible ones (amd64 → 386; arm64 → arm/v8…v5; arm/v7 → arm/v6, arm/v5).
 */
import { endianness } from 'node:os';
import { isManifestType } from './media-types.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, Platform['architecture']> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  x64: 'amd64',
  aarch64: 'arm64',
  i386: '386',
  i686: '386',
  ia32: '386',
  armhf: 'arm',
  armel: 'arm',
};

export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  const raw = p.architecture.toLowerCase();
  const architecture = ARCH_ALIASES[raw] ?? raw;
  let variant = (p.variant ?? '').toLowerCase();
  if (raw === 'armhf' && !variant) variant = 'v7';
  if (raw === 'armel' && !variant) variant = 'v6';
  if (architecture === 'arm64' && (variant === 'v8' || variant === '8')) variant = '';
  if (architecture === 'arm' && !variant) variant = 'v7';
  if (architecture === 'arm' && /^[0-9]$/.test(variant)) variant = `v${variant}`;
  if (architecture === 'amd64' && variant === 'v1') variant = '';
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** The platform of this process's host, as image indexes name it. */
export function hostPlatform(arch: string = process.arch): Platform {
  switch (arch) {
    case 'x64':
      return { os: 'linux', architecture: 'amd64' };
    case 'arm': {
      const v = Number((process.config.variables as Record<string, unknown>).arm_version ?? 7);
      return { os: 'linux', architecture: 'arm', variant: `v${v || 7}` };
    }
    case 'ppc64':
      return { os: 'linux', architecture: endianness() === 'LE' ? 'ppc64le' : 'ppc64' };
    default:
      return normalizePlatform({ os: 'linux', architecture: arch });
  }
}

/** Platforms `host` can run, most preferred first. */
export function platformCandidates(host: Platform): Platform[] {
  const h = normalizePlatform(host);
  const out: Platform[] = [h];
  const armDown = (from: number) => {
    for (let v = from; v >= 5; v--) out.push({ os: h.os, architecture: 'arm', variant: `v${v}` });
  };
  if (h.architecture === 'amd64') out.push({ os: h.os, architecture: '386' });
  if (h.architecture === 'arm64') armDown(8);
  if (h.architecture === 'arm') armDown(Number(h.variant?.slice(1) ?? 7) - 1);
  return out;
}

export function samePlatform(a: Platform, b: Platform): boolean {
  const x = normalizePlatform(a);
  const y = normalizePlatform(b);
  return x.os === y.os && x.architecture === y.architecture && (x.variant ?? '') === (y.variant ?? '');
}

/** Whether `host` can run images of `p` at all. */
export function platformRunsOn(p: Platform, host: Platform): boolean {
  return platformCandidates(host).some((c) => samePlatform(c, p));
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/**
 * The index entry to pull on `host`: the first candidate platform that has a manifest wins;
 * an entry without a platform is taken only when none matches. Undefined when nothing fits.
 */
export function selectManifest<D extends { mediaType: string; platform?: Platform }>(entries: readonly D[], host: Platform): D | undefined {
  const manifests = entries.filter((e) => isManifestType(e.mediaType));
  for (const want of platformCandidates(host)) {
    const hit = manifests.find((e) => e.platform && samePlatform(e.platform, want));
    if (hit) return hit;
  }
  return manifests.find((e) => !e.platform);
}
