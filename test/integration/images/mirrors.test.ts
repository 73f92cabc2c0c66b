/**
 * Mirrors (containerd hosts semantics): endpoints tried in order — a dead one is skipped, a
 * mirror that lacks the image (404) or fails (5xx) hands over to the next — and the registry
 * host itself comes last. The mirror here lives under a path prefix (/mirror/v2/…).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busybox, buildImage, pushImage } from '../../fixtures/image-builder.js';
import { freePort, startRegistry, type Registry } from '../../fixtures/registry.js';
import { startProxy, type RegistryProxy } from '../../fixtures/registry-proxy.js';
import { registryConfig, serviceFactory } from './helpers.js';

describe('registry mirrors', () => {
  let upstream: Registry;
  let mirror: Registry;
  let up: RegistryProxy;
  let mir: RegistryProxy;
  let dead: string;
  const services = serviceFactory();
  let svc: Awaited<ReturnType<typeof services.open>>;

  beforeAll(async () => {
    [upstream, mirror] = await Promise.all([startRegistry(), startRegistry()]);
    const both = await buildImage(busybox({ config: { Labels: { where: 'both' } } }));
    const onlyUp = await buildImage(busybox({ config: { Labels: { where: 'upstream' } } }));
    await pushImage(upstream, 'm/app', '1', both);
    await pushImage(mirror, 'm/app', '1', both);
    await pushImage(upstream, 'm/only-up', '1', onlyUp);
    up = await startProxy({ target: upstream.url });
    mir = await startProxy({ target: mirror.url, stripPrefix: '/mirror' });
    dead = `127.0.0.1:${await freePort()}`;
    svc = await services.open({
      registry: registryConfig({ insecure: [up.host], mirrors: { [up.host]: [`http://${dead}`, mir.url] } }),
    });
  });
  afterAll(async () => {
    await services.cleanup();
    await up?.stop();
    await mir?.stop();
    await upstream?.stop();
    await mirror?.stop();
  });

  it('skips a dead mirror and takes everything from the next one', async () => {
    const img = await svc.pull(`${up.host}/m/app:1`);
    expect(img.config.Labels).toEqual({ where: 'both' });
    expect(img.repoTags).toEqual([`${up.host}/m/app:1`]);
    expect(mir.count((r) => r.path === '/v2/m/app/manifests/1' && r.status === 200)).toBe(1);
    expect(mir.count((r) => r.path.startsWith('/v2/m/app/blobs/') && r.status === 200)).toBe(2);
    expect(up.requests).toEqual([]);
  });

  it('goes on to the upstream host last when the mirror lacks the image', async () => {
    const img = await svc.pull(`${up.host}/m/only-up:1`);
    expect(img.config.Labels).toEqual({ where: 'upstream' });
    const miss = mir.requests.find((r) => r.path === '/v2/m/only-up/manifests/1');
    const hit = up.requests.find((r) => r.path === '/v2/m/only-up/manifests/1' && r.status === 200);
    expect(miss?.status).toBe(404);
    expect(hit && miss && hit.seq > miss.seq).toBe(true);
  });

  it('serves Docker Hub short names from a docker.io mirror (as later CRI tests do)', async () => {
    await pushImage(mirror, 'library/busybox', 'latest', await buildImage(busybox({ config: { Labels: { where: 'hub-mirror' } } })));
    const s = await services.open({ registry: registryConfig({ mirrors: { 'docker.io': [mirror.url] } }) });
    const img = await s.pull('busybox');
    expect(img.repoTags).toEqual(['docker.io/library/busybox:latest']);
    expect(img.config.Labels).toEqual({ where: 'hub-mirror' });
    expect(s.find('busybox:latest')?.id).toBe(img.id);
  });

  it('falls back when a mirror answers 5xx', async () => {
    mir.behave(() => ({ kind: 'status', status: 503, body: 'down' }));
    try {
      await svc.remove(`${up.host}/m/app:1`);
      const upBefore = up.requests.length;
      const img = await svc.pull(`${up.host}/m/app:1`);
      expect(img.config.Labels).toEqual({ where: 'both' });
      expect(up.requests.length).toBeGreaterThan(upBefore);
    } finally {
      mir.behave(undefined);
    }
  });
});
