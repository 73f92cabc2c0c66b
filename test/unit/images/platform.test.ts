import { describe, expect, it } from 'vitest';
import { hostPlatform, normalizePlatform, platformCandidates, platformRunsOn, selectManifest } from '../../../src/images/platform.js';

const M = 'application/vnd.oci.image.manifest.v1+json';
const entry = (architecture: string, variant?: string, os = 'linux') => ({
  mediaType: M,
  digest: `${os}/${architecture}/${variant ?? ''}`,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

describe('platform selection', () => {
  it('knows this host', () => {
    expect(hostPlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(hostPlatform('arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(hostPlatform('s390x')).toEqual({ os: 'linux', architecture: 's390x' });
  });

  it('normalises names and variants', () => {
    expect(normalizePlatform({ os: 'Linux', architecture: 'x86_64' })).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: 'v8' })).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(normalizePlatform({ os: 'linux', architecture: 'arm' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(normalizePlatform({ os: 'linux', architecture: 'armhf' })).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  it('picks linux/amd64 out of a multi-platform index', () => {
    const idx = [entry('arm64', 'v8'), entry('arm', 'v7'), entry('amd64'), entry('386'), entry('amd64', undefined, 'windows')];
    expect(selectManifest(idx, { os: 'linux', architecture: 'amd64' })?.digest).toBe('linux/amd64/');
  });

  it('falls back to compatible platforms in preference order', () => {
    expect(selectManifest([entry('386'), entry('arm64')], { os: 'linux', architecture: 'amd64' })?.digest).toBe('linux/386/');
    expect(selectManifest([entry('arm', 'v6'), entry('arm', 'v5')], { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest).toBe('linux/arm/v6');
    expect(selectManifest([entry('arm', 'v7'), entry('arm64')], { os: 'linux', architecture: 'arm64' })?.digest).toBe('linux/arm64/');
    expect(selectManifest([entry('arm', 'v7')], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest).toBe('linux/arm/v7');
    expect(platformCandidates({ os: 'linux', architecture: 'arm', variant: 'v6' }).map((p) => p.variant)).toEqual(['v6', 'v5']);
  });

  it('does not run arm images on amd64, nor newer arm variants on older ones', () => {
    expect(selectManifest([entry('arm64'), entry('ppc64le')], { os: 'linux', architecture: 'amd64' })).toBeUndefined();
    expect(platformRunsOn({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(false);
    expect(platformRunsOn({ os: 'windows', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64' })).toBe(false);
  });

  it('skips non-manifest entries (attestations are unknown/unknown) and uses platform-less ones last', () => {
    const att = { mediaType: M, digest: 'att', platform: { os: 'unknown', architecture: 'unknown' } };
    const nested = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: 'nested', platform: { os: 'linux', architecture: 'amd64' } };
    const bare = { mediaType: M, digest: 'bare' };
    expect(selectManifest([att, nested, bare], { os: 'linux', architecture: 'amd64' })?.digest).toBe('bare');
    expect(selectManifest([bare, entry('amd64')], { os: 'linux', architecture: 'amd64' })?.digest).toBe('linux/amd64/');
  });
});
