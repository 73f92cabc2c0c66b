/**
 * Metadata-only images (pulled for guest-pull handlers): the record flag and its back-compat,
 * how pulls of one image in both modes merge, completion, and what GC keeps for them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planGc } from '../../../src/images/gc.js';
import { ImageIndex } from '../../../src/images/store/image-index.js';
import { hasHostLayers, type ImageRecord } from '../../../src/images/store/image-record.js';
import { ImageStore } from '../../../src/images/store/image-store.js';

const d = (c: string) => 'sha256:' + c.repeat(64);
const layer = (l: string) => ({ digest: `blob-${l}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10, diffId: `diff-${l}`, chainId: `chain-${l}` });
/** A full record (as written before hostLayers existed) or a metadata-only one. */
function rec(id: string, layers: string[], mode: 'full' | 'metadata' = 'full'): ImageRecord {
  const r: ImageRecord = {
    id,
    repoTags: [],
    repoDigests: [],
    manifestDigest: d('m'),
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    configMediaType: 'application/vnd.oci.image.config.v1+json',
    platform: { os: 'linux', architecture: 'amd64' },
    config: { User: '1000', Entrypoint: ['/app'] },
    layers: layers.map(layer),
    blobs: [d('m'), id, ...(mode === 'full' ? layers.map((l) => `blob-${l}`) : [])],
    size: 2 + 10 * layers.length,
    pinned: false,
    pulledAt: '2024-01-01T00:00:00Z',
  };
  if (mode === 'metadata') r.hostLayers = false;
  return r;
}
const names = { tag: 'reg.test/app:1', digestRef: `reg.test/app@${d('t')}` };

describe('the hostLayers flag', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const x of dirs.splice(0)) await rm(x, { recursive: true, force: true });
  });

  it('is absent on full images (old images.json files load as full) and false on metadata-only ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-unit-images-'));
    dirs.push(dir);
    const path = join(dir, 'images.json');
    const old = rec(d('a'), ['1']);
    expect('hostLayers' in old).toBe(false);
    await writeFile(path, JSON.stringify({ version: 1, images: [old, rec(d('b'), ['2'], 'metadata')] }));
    const store = await ImageStore.open(path);
    expect(hasHostLayers(store.index.get(d('a'))!)).toBe(true);
    expect(hasHostLayers(store.index.get(d('b'))!)).toBe(false);
    // Written back as it was read: the flag persists only on the metadata-only image.
    await store.mutate(() => undefined);
    const doc = JSON.parse(await readFile(path, 'utf8')) as { images: ImageRecord[] };
    expect(doc.images.map((i) => [i.id, i.hostLayers])).toEqual([
      [d('a'), undefined],
      [d('b'), false],
    ]);
  });
});

describe('pulls of one image in both modes', () => {
  it('a full pull after a metadata-only one clears the flag and references the layers', () => {
    const ix = new ImageIndex();
    expect(ix.add(rec(d('a'), ['1', '2'], 'metadata'), names).hostLayers).toBe(false);
    const full = ix.add(rec(d('a'), ['1', '2']), names);
    expect(hasHostLayers(full)).toBe(true);
    expect('hostLayers' in full).toBe(false);
    expect(full.blobs).toEqual(expect.arrayContaining(['blob-1', 'blob-2', d('m'), d('a')]));
  });

  it('a metadata-only pull of an image whose layers are here never takes them away', () => {
    const ix = new ImageIndex();
    ix.add(rec(d('a'), ['1']), names);
    const again = ix.add(rec(d('a'), ['1'], 'metadata'), { digestRef: names.digestRef });
    expect(hasHostLayers(again)).toBe(true);
    expect(again.blobs).toContain('blob-1');
    expect(again.repoTags).toEqual([names.tag]);
  });

  it('two metadata-only pulls stay metadata-only; completing adds the layer blobs and clears the flag', () => {
    const ix = new ImageIndex();
    ix.add(rec(d('a'), ['1', '2'], 'metadata'), names);
    expect(ix.add(rec(d('a'), ['1', '2'], 'metadata'), names).hostLayers).toBe(false);
    const done = ix.markLayersPresent(d('a'))!;
    expect(hasHostLayers(done)).toBe(true);
    expect(done.blobs.filter((b) => b.startsWith('blob-')).sort()).toEqual(['blob-1', 'blob-2']);
    expect(done.repoTags).toEqual([names.tag]);
    expect(ix.markLayersPresent(d('z'))).toBeUndefined();
  });
});

describe('gc plan with metadata-only images', () => {
  it('keeps their manifest and config, expects no snapshots of theirs and keeps no layers for them', () => {
    const guest = rec(d('g'), ['1', '2'], 'metadata');
    const plan = planGc({
      images: [guest],
      blobs: [d('m'), d('g'), 'blob-1'],
      // Leftovers of a removed full image sharing these layers.
      snapshots: [{ chainId: 'chain-1' }, { chainId: 'chain-2', parent: 'chain-1' }],
    });
    expect(plan.blobs).toEqual(['blob-1']);
    expect(plan.snapshots.sort()).toEqual(['chain-1', 'chain-2']);
  });

  it('still keeps layers a full image, a container or a running completion holds', () => {
    const guest = rec(d('g'), ['1', '2', '3'], 'metadata');
    const full = rec(d('f'), ['1']);
    const plan = planGc({
      images: [guest, full],
      blobs: [d('m'), d('g'), d('f'), 'blob-1', 'blob-2', 'blob-3'],
      snapshots: [{ chainId: 'chain-1' }, { chainId: 'chain-2', parent: 'chain-1' }, { chainId: 'chain-3', parent: 'chain-2' }],
      extraChainIds: ['chain-2'],
      leasedBlobs: new Set(['blob-3']),
      leasedSnapshots: new Set(['chain-3']),
    });
    expect(plan.blobs).toEqual(['blob-2']);
    expect(plan.snapshots).toEqual([]);
  });

  it('an empty store with only metadata-only images deletes nothing', () => {
    const plan = planGc({ images: [rec(d('g'), ['1'], 'metadata')], blobs: [d('m'), d('g')], snapshots: [] });
    expect(plan).toEqual({ blobs: [], snapshots: [] });
  });
});
