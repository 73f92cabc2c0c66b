/**
 * Metadata-only pulls (for runtime handlers that pull images in the guest) against a real
 * docker-registry behind a recording proxy: what is stored (manifest + config, no layer blobs,
 * no snapshots — checked on the store's directories), how the image lists, restarts and GC,
 * and how its layers come later (a full pull, or completing it with the pull's credentials),
 * including a completion that fails half-way and leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasHostLayers, type PullProgress } from '../../../src/images/index.js';
import { Code } from '../../../src/util/errors.js';
import { busybox, file, publish } from '../../fixtures/image-builder.js';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { startProxy, type RegistryProxy } from '../../fixtures/registry-proxy.js';
import { expectCode, ls, registryConfig, serviceFactory } from './helpers.js';

const hex = (d: string) => d.slice(7);
type Published = Awaited<ReturnType<typeof publish>>;

describe('metadata-only pulls', () => {
  let reg: Registry;
  let proxy: RegistryProxy;
  let guarded: RegistryProxy;
  const services = serviceFactory();
  const cfg = () => registryConfig({ insecure: [proxy.host, guarded.host] });
  const ref = (r: string, p = proxy) => `${p.host}/${r}`;
  let app: Published;
  const layersOf = (p: Published) => p.image.layers.map((l) => l.digest);
  /** Layer blob GETs the proxy saw since `from`. */
  const layerGets = (p: Published, from: number, px = proxy) =>
    px.requests.slice(from).filter((r) => r.method === 'GET' && layersOf(p).some((d) => r.path.endsWith(`/blobs/${d}`)));

  beforeAll(async () => {
    reg = await startRegistry();
    proxy = await startProxy({ target: reg.url });
    guarded = await startProxy({ target: reg.url, basicAuth: { username: 'bob', password: 'pw' } });
    app = await publish(reg, 'g/app:1', busybox({ config: { User: '1000', Env: ['MODE=guest'], Entrypoint: ['/bin/app'] }, layers: [{ entries: [file('/bin/app', randomBytes(50_000))] }] }));
  });
  afterAll(async () => {
    await services.cleanup();
    await guarded?.stop();
    await proxy?.stop();
    await reg?.stop();
  });

  it('stores the manifest and config only, lists the image with its config and full size', async () => {
    const root = await services.root();
    const svc = await services.open({ root, registry: cfg() });
    const from = proxy.requests.length;
    const events: PullProgress[] = [];
    const img = await svc.pull(ref('g/app:1'), { layers: false, onProgress: (p) => events.push(p) });
    expect(img).toMatchObject({ id: app.imageId, hostLayers: false, repoTags: [ref('g/app:1')], repoDigests: [`${ref('g/app')}@${app.digest}`], uid: 1000 });
    expect(img.config).toMatchObject({ User: '1000', Env: ['MODE=guest'], Entrypoint: ['/bin/app'] });
    expect(img.layers.map((l) => l.digest)).toEqual(layersOf(app));
    const layerBytes = app.image.layers.reduce((n, l) => n + l.size, 0);
    expect(img.size).toBe(app.image.manifest.size + app.image.config.size + layerBytes);
    // On disk: two blobs, the manifest and the config; no snapshot; nothing in flight.
    expect(await ls(join(root, 'content/blobs/sha256'))).toEqual([hex(app.digest), hex(app.imageId)].sort());
    expect(await ls(join(root, 'snapshots'))).toEqual([]);
    expect(await ls(join(root, 'content/ingest'))).toEqual([]);
    expect(layerGets(app, from)).toEqual([]);
    expect(events.map((e) => e.phase)).toEqual(['resolving', 'resolved', 'done']);
    expect(svc.list().map((i) => [i.id, i.size, i.hostLayers])).toEqual([[app.imageId, img.size, false]]);
    expect(svc.find(ref('g/app:1'))?.id).toBe(app.imageId);
    expect(await svc.imageSpec(app.imageId)).toMatchObject({ config: { User: '1000' } });
    const err = await expectCode(Promise.resolve().then(() => svc.snapshotChain(app.imageId)), Code.FAILED_PRECONDITION);
    expect(err.message).toContain(`crictl pull ${ref('g/app:1')}`);
    // GC keeps both blobs; a new service over the root (restart) sees the same image.
    expect(await svc.gc()).toEqual({ blobs: [], snapshots: [] });
    await svc.close();
    const again = await services.open({ root, registry: cfg() });
    expect(again.get(app.imageId)).toMatchObject({ hostLayers: false, size: img.size });
    expect(await ls(join(root, 'content/blobs/sha256'))).toEqual([hex(app.digest), hex(app.imageId)].sort());
  });

  it('a later full pull downloads and unpacks the layers and clears the flag', async () => {
    const root = await services.root();
    const svc = await services.open({ root, registry: cfg() });
    await svc.pull(ref('g/app:1'), { layers: false });
    const from = proxy.requests.length;
    const full = await svc.pull(ref('g/app:1'));
    expect(hasHostLayers(full)).toBe(true);
    expect(full.hostLayers).toBeUndefined();
    expect(layerGets(app, from)).toHaveLength(2);
    expect(await ls(join(root, 'snapshots'))).toEqual(full.layers.map((l) => hex(l.chainId)).sort());
    expect(svc.snapshotChain(full.id)).toHaveLength(2);
    // A metadata-only pull of it now leaves the layers alone.
    const meta = await svc.pull(ref('g/app:1'), { layers: false });
    expect(hasHostLayers(meta)).toBe(true);
    expect(await svc.gc()).toEqual({ blobs: [], snapshots: [] });
  });

  it('completeLayers fetches the layers with the credentials of the pull; after a restart it has only the configured ones', async () => {
    const auth = { username: 'bob', password: 'pw' };
    const root = await services.root();
    const svc = await services.open({ root, registry: cfg() });
    await svc.pull(ref('g/app:1', guarded), { layers: false, auth });
    await svc.close();
    // A new daemon does not remember request credentials: UNAUTHENTICATED, nothing left behind.
    const restarted = await services.open({ root, registry: cfg() });
    const err = await expectCode(restarted.completeLayers(ref('g/app:1', guarded)), Code.UNAUTHENTICATED);
    expect(err.message).toContain(guarded.host);
    expect(await ls(join(root, 'snapshots'))).toEqual([]);
    expect(await ls(join(root, 'content/blobs/sha256'))).toEqual([hex(app.digest), hex(app.imageId)].sort());
    // The same pull again (as the kubelet would) is remembered for completion.
    await restarted.pull(ref('g/app:1', guarded), { layers: false, auth });
    const from = guarded.requests.length;
    const done = await restarted.completeLayers(app.imageId);
    expect(hasHostLayers(done)).toBe(true);
    expect(layerGets(app, from, guarded)).toHaveLength(2);
    expect(restarted.snapshotChain(app.imageId)).toHaveLength(2);
    // Already complete: nothing to do.
    const n = guarded.requests.length;
    expect((await restarted.completeLayers(app.imageId)).id).toBe(app.imageId);
    expect(guarded.requests.length).toBe(n);
  });

  it('concurrent completions share one download; a failed one leaves no temp files or layer blobs', async () => {
    const root = await services.root();
    const svc = await services.open({ root, registry: cfg() });
    await svc.pull(ref('g/app:1'), { layers: false });
    const top = layersOf(app)[1]!;
    proxy.behave((r) => (r.path.endsWith(`/blobs/${top}`) ? { kind: 'truncate' } : undefined));
    try {
      await expectCode(svc.completeLayers(app.imageId), Code.DATA_LOSS);
    } finally {
      proxy.behave(undefined);
    }
    expect(svc.get(app.imageId).hostLayers).toBe(false);
    expect(await ls(join(root, 'content/ingest'))).toEqual([]);
    expect((await ls(join(root, 'snapshots'))).filter((s) => s.startsWith('.'))).toEqual([]);
    // GC after the failure removed what the image does not reference (the base layer it got).
    expect(await ls(join(root, 'content/blobs/sha256'))).toEqual([hex(app.digest), hex(app.imageId)].sort());
    expect(await ls(join(root, 'snapshots'))).toEqual([]);
    const from = proxy.requests.length;
    const [a, b] = await Promise.all([svc.completeLayers(app.imageId), svc.completeLayers(ref('g/app:1'))]);
    expect(a.id).toBe(b.id);
    expect(layerGets(app, from)).toHaveLength(2);
    expect(hasHostLayers(svc.get(app.imageId))).toBe(true);
    await expectCode(svc.completeLayers('g/none:1'), Code.NOT_FOUND);
  });
});
