/**
 * Bad registries and bad input: a lying proxy (corrupt / truncated / stalled blobs, wrong
 * manifests), unreachable and silent endpoints, missing images, wrong platforms, malformed
 * references, cancellation. Every failure has the right code, names what failed, and leaves
 * no image, no temp file and no new unreferenced content behind.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageService } from '../../../src/images/index.js';
import { Code } from '../../../src/util/errors.js';
import { busybox, file, publish, publishIndex } from '../../fixtures/image-builder.js';
import { freePort, startRegistry, type Registry } from '../../fixtures/registry.js';
import { startBlackHole, startProxy, type RegistryProxy } from '../../fixtures/registry-proxy.js';
import { expectCode, ls, registryConfig, serviceFactory } from './helpers.js';

describe('pull failures', () => {
  let reg: Registry;
  let proxy: RegistryProxy;
  const services = serviceFactory();
  let svc: ImageService;
  let root: string;
  let appLayer: string;
  const ref = (r: string) => `${proxy.host}/${r}`;

  /** Nothing half-written, no image, nothing unreferenced. */
  async function expectClean(s: ImageService, r: string) {
    expect(s.list()).toEqual([]);
    expect(await ls(join(r, 'content/ingest'))).toEqual([]);
    expect(await ls(join(r, 'content/blobs/sha256'))).toEqual([]);
    expect(await ls(join(r, 'snapshots'))).toEqual([]);
  }

  beforeAll(async () => {
    reg = await startRegistry();
    const pushed = await publish(reg, 'f/app:1', busybox({ layers: [{ entries: [file('/payload', randomBytes(200_000))] }] }));
    appLayer = pushed.image.layers[1].digest;
    await publish(reg, 'f/arm:1', busybox({ platform: { os: 'linux', architecture: 'arm64' } }));
    await publishIndex(reg, 'f/armonly:1', [
      { spec: busybox(), platform: { os: 'linux', architecture: 'arm64' } },
      { spec: busybox(), platform: { os: 'linux', architecture: 'ppc64le' } },
    ]);
    proxy = await startProxy({ target: reg.url });
    root = await services.root();
    svc = await services.open({ root, registry: registryConfig({ insecure: [proxy.host], requestTimeoutSeconds: 1 }) });
  });
  afterAll(async () => {
    await services.cleanup();
    await proxy?.stop();
    await reg?.stop();
  });

  it('DATA_LOSS when a blob does not match its digest, and nothing is left', async () => {
    proxy.behave((r) => (r.path.endsWith(appLayer) ? { kind: 'corrupt' } : undefined));
    const err = await expectCode(svc.pull(ref('f/app:1')), Code.DATA_LOSS);
    proxy.behave(undefined);
    expect(err.message).toContain(appLayer);
    expect(err.message).toMatch(/does not match its digest/);
    await expectClean(svc, root);
  });

  it('DATA_LOSS when a download is cut short', async () => {
    proxy.behave((r) => (r.path.endsWith(appLayer) ? { kind: 'truncate' } : undefined));
    const err = await expectCode(svc.pull(ref('f/app:1')), Code.DATA_LOSS);
    proxy.behave(undefined);
    expect(err.message).toMatch(new RegExp(`${appLayer}.*truncated`));
    await expectClean(svc, root);
  });

  it('UNAVAILABLE when a download stalls past the idle timeout', async () => {
    proxy.behave((r) => (r.path.endsWith(appLayer) ? { kind: 'stall', afterBytes: 1000 } : undefined));
    const err = await expectCode(svc.pull(ref('f/app:1')), Code.UNAVAILABLE);
    proxy.behave(undefined);
    expect(err.message).toMatch(/stalled/);
    await expectClean(svc, root);
  });

  it('DATA_LOSS when the manifest does not match the digest pulled', async () => {
    const good = (await svc.pull(ref('f/app:1'))).repoDigests[0].split('@')[1];
    await svc.remove(ref('f/app:1'));
    proxy.behave((r) => (r.path.includes('/manifests/') ? { kind: 'corrupt' } : undefined));
    const err = await expectCode(svc.pull(`${ref('f/app')}@${good}`), Code.DATA_LOSS);
    proxy.behave(undefined);
    expect(err.message).toMatch(/manifest .*does not match its digest/);
    await expectClean(svc, root);
  });

  it('UNAVAILABLE quickly for an unreachable registry, naming the endpoints tried', async () => {
    const host = `127.0.0.1:${await freePort()}`;
    const s = await services.open({ registry: registryConfig({ insecure: [host] }) });
    const err = await expectCode(s.pull(`${host}/x/y:1`), Code.UNAVAILABLE);
    expect(err.message).toContain(`https://${host}/v2`);
    expect(err.message).toContain(`http://${host}/v2`);
    expect(err.message).toMatch(/connrefused/);
  });

  it('UNAVAILABLE when the registry never answers (request timeout)', async () => {
    const hole = await startBlackHole();
    try {
      const s = await services.open({ registry: registryConfig({ insecure: [hole.host], requestTimeoutSeconds: 0.5 }) });
      const err = await expectCode(s.pull(`${hole.host}/x/y:1`), Code.UNAVAILABLE);
      expect(err.message).toMatch(/no response within/);
    } finally {
      await hole.stop();
    }
  });

  it('UNAVAILABLE when the registry answers 5xx', async () => {
    proxy.behave(() => ({ kind: 'status', status: 502 }));
    const err = await expectCode(svc.pull(ref('f/app:1')), Code.UNAVAILABLE);
    proxy.behave(undefined);
    expect(err.message).toContain('HTTP 502');
  });

  it('NOT_FOUND for a missing tag or repository, naming the reference and endpoints', async () => {
    const err = await expectCode(svc.pull(ref('f/app:nope')), Code.NOT_FOUND);
    expect(err.message).toContain(`${proxy.host}/f/app:nope`);
    expect(err.message).toContain(`http://${proxy.host}/v2: HTTP 404`);
    await expectCode(svc.pull(ref('no/such:1')), Code.NOT_FOUND);
    await expectClean(svc, root);
  });

  it('refuses images for another platform', async () => {
    const e1 = await expectCode(svc.pull(ref('f/arm:1')), Code.FAILED_PRECONDITION);
    expect(e1.message).toMatch(/linux\/arm64.*linux\/amd64/);
    const e2 = await expectCode(svc.pull(ref('f/armonly:1')), Code.NOT_FOUND);
    expect(e2.message).toMatch(/no manifest for linux\/amd64.*linux\/arm64, linux\/ppc64le/);
    await expectClean(svc, root);
  });

  it.each(['', 'upper/Case', 'a b', 'x:', 'x@sha256:123', `${'a'.repeat(64)}`, 'x@md5:' + 'a'.repeat(32)])(
    'INVALID_ARGUMENT for the malformed reference %j',
    async (bad) => {
      const err = await expectCode(svc.pull(bad), Code.INVALID_ARGUMENT);
      expect(err.message).toContain('invalid image reference');
    },
  );

  it('CANCELLED when the caller aborts, with nothing left behind', async () => {
    proxy.behave((r) => (r.path.endsWith(appLayer) ? { kind: 'stall', afterBytes: 1000 } : undefined));
    const ac = new AbortController();
    const p = svc.pull(ref('f/app:1'), {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.phase === 'downloading' && e.layer?.digest === appLayer && (e.bytesDone ?? 0) > 0) ac.abort();
      },
    });
    await expectCode(p, Code.CANCELLED);
    proxy.behave(undefined);
    await new Promise((r) => setTimeout(r, 100));
    await svc.gc();
    await expectClean(svc, root);
  });
});
