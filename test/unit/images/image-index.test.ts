import { describe, expect, it } from 'vitest';
import { ImageIndex } from '../../../src/images/store/image-index.js';
import type { ImageRecord } from '../../../src/images/store/image-record.js';
import { planGc } from '../../../src/images/gc.js';
import { Code } from '../../../src/util/errors.js';

const d = (c: string) => 'sha256:' + c.repeat(64);
const rec = (id: string, layers: string[] = [], extraBlobs: string[] = []): ImageRecord => ({
  id,
  repoTags: [],
  repoDigests: [],
  manifestDigest: d('m'),
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  configMediaType: 'application/vnd.oci.image.config.v1+json',
  platform: { os: 'linux', architecture: 'amd64' },
  config: {},
  layers: layers.map((l) => ({ digest: `blob-${l}`, mediaType: 'x', size: 1, diffId: `diff-${l}`, chainId: `chain-${l}` })),
  blobs: [id, ...layers.map((l) => `blob-${l}`), ...extraBlobs],
  size: 1,
  pinned: false,
  pulledAt: '2024-01-01T00:00:00Z',
});
const BB = 'docker.io/library/busybox';

describe('image index', () => {
  it('resolves ids, references (normalised), digests and unique id prefixes', () => {
    const ix = new ImageIndex();
    ix.add(rec(d('a')), { tag: `${BB}:latest`, digestRef: `${BB}@${d('1')}` });
    ix.add(rec('sha256:ab' + '0'.repeat(62)), { tag: `${BB}:old`, digestRef: `${BB}@${d('2')}` });
    expect(ix.resolve(d('a'))?.id).toBe(d('a'));
    expect(ix.resolve('busybox')?.id).toBe(d('a'));
    expect(ix.resolve(`docker.io/library/busybox:latest`)?.id).toBe(d('a'));
    expect(ix.resolve(`busybox@${d('1')}`)?.id).toBe(d('a'));
    expect(ix.resolve('aaaaaa')?.id).toBe(d('a'));
    expect(ix.resolve('sha256:aaaa')?.id).toBe(d('a'));
    expect(ix.resolve('a'.repeat(64))?.id).toBe(d('a'));
    expect(ix.resolve('busybox:nope')).toBeUndefined();
    expect(ix.resolve('aaa')).toBeUndefined(); // too short for a prefix
    expect(ix.resolve('NOT A REF')).toBeUndefined();
    expect(() => ix.resolve('sha256:a')).not.toThrow();
    const ix2 = new ImageIndex([{ ...rec('sha256:abcd' + '1'.repeat(60)) }, { ...rec('sha256:abcd' + '2'.repeat(60)) }]);
    try {
      ix2.resolve('abcd');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: Code.INVALID_ARGUMENT });
    }
  });

  it('moves a tag to the newly pulled image; the old one keeps its digest', () => {
    const ix = new ImageIndex();
    ix.add(rec(d('a')), { tag: `${BB}:latest`, digestRef: `${BB}@${d('1')}` });
    ix.add(rec(d('b')), { tag: `${BB}:latest`, digestRef: `${BB}@${d('2')}` });
    expect(ix.get(d('a'))).toMatchObject({ repoTags: [], repoDigests: [`${BB}@${d('1')}`] });
    expect(ix.get(d('b'))).toMatchObject({ repoTags: [`${BB}:latest`], repoDigests: [`${BB}@${d('2')}`] });
    expect(ix.resolve('busybox')?.id).toBe(d('b'));
  });

  it('merges names of the same image and drops an image left without names', () => {
    const ix = new ImageIndex();
    ix.add(rec(d('a')), { tag: `${BB}:1`, digestRef: `${BB}@${d('1')}` });
    ix.add(rec(d('a'), [], ['extra']), { tag: `${BB}:2`, digestRef: `${BB}@${d('1')}` });
    expect(ix.get(d('a'))).toMatchObject({ repoTags: [`${BB}:1`, `${BB}:2`], repoDigests: [`${BB}@${d('1')}`] });
    expect(ix.get(d('a'))?.blobs).toContain('extra');
    ix.add(rec(d('c')), { digestRef: `${BB}@${d('3')}` });
    ix.add(rec(d('e')), { digestRef: `${BB}@${d('3')}` });
    expect(ix.get(d('c'))).toBeUndefined();
  });

  it('removes one tag of several, or the whole image', () => {
    const ix = new ImageIndex();
    ix.add(rec(d('a')), { tag: `${BB}:1`, digestRef: `${BB}@${d('1')}` });
    ix.add(rec(d('a')), { tag: `${BB}:2`, digestRef: `${BB}@${d('1')}` });
    expect(ix.remove('busybox:1')).toEqual({ imageId: d('a'), imageRemoved: false, removedRefs: [`${BB}:1`] });
    expect(ix.get(d('a'))?.repoTags).toEqual([`${BB}:2`]);
    expect(ix.remove('busybox:2')).toMatchObject({ imageRemoved: true });
    expect(ix.get(d('a'))).toBeUndefined();
    expect(ix.remove('busybox:2')).toBeUndefined();
    ix.add(rec(d('b')), { tag: `${BB}:1`, digestRef: `${BB}@${d('2')}` });
    ix.add(rec(d('b')), { tag: `${BB}:3`, digestRef: `${BB}@${d('2')}` });
    expect(ix.remove(d('b'))).toMatchObject({ imageRemoved: true, removedRefs: [`${BB}:1`, `${BB}:3`, `${BB}@${d('2')}`] });
    ix.add(rec(d('b')), { tag: `${BB}:1`, digestRef: `${BB}@${d('2')}` });
    ix.add(rec(d('b')), { tag: `${BB}:3`, digestRef: `${BB}@${d('2')}` });
    expect(ix.remove(`busybox@${d('2')}`)).toMatchObject({ imageRemoved: true });
  });

  it('pins', () => {
    const ix = new ImageIndex([rec(d('a'))]);
    expect(ix.setPinned(d('a'), true)?.pinned).toBe(true);
    expect(ix.setPinned(d('z'), true)).toBeUndefined();
  });
});

describe('gc plan', () => {
  it('keeps what images, containers and leases need, and parents of kept snapshots', () => {
    const a = rec(d('a'), ['1', '2']);
    const plan = planGc({
      images: [a],
      blobs: [d('a'), 'blob-1', 'blob-2', 'blob-3', 'blob-4', 'blob-5'],
      snapshots: [
        { chainId: 'chain-1' },
        { chainId: 'chain-2', parent: 'chain-1' },
        { chainId: 'chain-3' },
        { chainId: 'chain-4', parent: 'chain-3x' },
        { chainId: 'chain-3x' },
        { chainId: 'chain-5' },
        { chainId: 'chain-6' },
      ],
      extraChainIds: ['chain-4'],
      leasedBlobs: new Set(['blob-5']),
      leasedSnapshots: new Set(['chain-5']),
    });
    expect(plan.blobs.sort()).toEqual(['blob-3', 'blob-4']);
    expect(plan.snapshots.sort()).toEqual(['chain-3', 'chain-6']);
  });
});
