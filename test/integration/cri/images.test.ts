/**
 * ImageService over berthd's real socket (with an old-client :authority), against a real
 * docker-registry: pull by tag and digest, list with a filter, status with the USER fields and
 * verbose config, fs info, remove (idempotent), and the errors bad input gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type Registry } from '../../fixtures/registry.js';
import { busybox, publish } from '../../fixtures/image-builder.js';
import { startBerthd, type Berthd } from '../../helpers/berthd.js';
import { grpc, grpcError, type CriClients } from '../../helpers/cri-client.js';

let reg: Registry;
let d: Berthd;
let cri: CriClients;
let digest: string;
const spec = (image: string) => ({ image, annotations: {}, userSpecifiedImage: '', runtimeHandler: '', imageRef: '' });

beforeAll(async () => {
  reg = await startRegistry();
  digest = (await publish({ url: reg.url }, 'app/named:1', busybox({ config: { User: 'app' } }))).digest;
  await publish({ url: reg.url }, 'app/numeric:1', busybox({ config: { User: '1000:1000' } }));
  d = await startBerthd({ registry: { insecure: [reg.host], mirrors: { 'mirror.example': [reg.url] } } });
  cri = d.clients({ authority: d.socket });
});
afterAll(async () => {
  await d?.cleanup();
  await reg?.stop();
});

describe('ImageService over the CRI socket', () => {
  it('pulls by tag and by digest, and reports USER as username or uid', async () => {
    const byTag = await cri.image.pullImage({ image: spec(`${reg.host}/app/named:1`), auth: undefined, sandboxConfig: undefined });
    expect(byTag.imageRef).toMatch(/^sha256:[0-9a-f]{64}$/);
    const named = (await cri.image.imageStatus({ image: spec(`${reg.host}/app/named:1`), verbose: true })).image!;
    expect(named.username).toBe('app');
    expect(named.uid).toBeUndefined();
    expect(named.repoDigests).toEqual([`${reg.host}/app/named@${digest}`]);
    const byDigest = await cri.image.pullImage({ image: spec(`${reg.host}/app/named@${digest}`), auth: undefined, sandboxConfig: undefined });
    expect(byDigest.imageRef).toBe(byTag.imageRef);
    await cri.image.pullImage({ image: spec(`${reg.host}/app/numeric:1`), auth: undefined, sandboxConfig: undefined });
    const numeric = await cri.image.imageStatus({ image: spec(`${reg.host}/app/numeric:1`), verbose: true });
    expect(numeric.image!.uid?.value).toBe(1000n);
    expect(JSON.parse(numeric.info.info!).imageSpec.config.User).toBe('1000:1000');
  });

  it('pulls through a configured mirror', async () => {
    const r = await cri.image.pullImage({ image: spec('mirror.example/app/named:1'), auth: undefined, sandboxConfig: undefined });
    expect(r.imageRef).toMatch(/^sha256:/);
  });

  it('lists with and without a filter, and reports image fs usage', async () => {
    const all = await cri.image.listImages({ filter: undefined });
    expect(all.images.length).toBeGreaterThanOrEqual(2);
    const one = await cri.image.listImages({ filter: { image: spec(`${reg.host}/app/numeric:1`) } });
    expect(one.images.map((i) => i.repoTags).flat()).toEqual([`${reg.host}/app/numeric:1`]);
    const fs = await cri.image.imageFsInfo({});
    expect(fs.imageFilesystems[0]!.fsId!.mountpoint).toMatch(/^\//);
    expect(fs.imageFilesystems[0]!.usedBytes!.value).toBeGreaterThan(0n);
    expect(fs.imageFilesystems[0]!.inodesUsed!.value).toBeGreaterThan(0n);
  });

  it('removes by tag, treats a missing image as removed, and answers status of unknown images with no image', async () => {
    await cri.image.removeImage({ image: spec(`${reg.host}/app/numeric:1`) });
    await cri.image.removeImage({ image: spec(`${reg.host}/app/numeric:1`) });
    const st = await cri.image.imageStatus({ image: spec(`${reg.host}/app/numeric:1`), verbose: false });
    expect(st.image).toBeUndefined();
  });

  it('survives a restart of berthd with its images', async () => {
    await d.restart();
    const c = d.clients();
    const st = await c.image.imageStatus({ image: spec(`${reg.host}/app/named:1`), verbose: false });
    expect(st.image?.username).toBe('app');
  });

  it('answers bad input with clear errors and keeps serving', async () => {
    const c = d.clients();
    const bad = await grpcError(c.image.pullImage({ image: spec('UPPER/Case:tag:x'), auth: undefined, sandboxConfig: undefined }));
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    const empty = await grpcError(c.image.pullImage({ image: spec(''), auth: undefined, sandboxConfig: undefined }));
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    const missing = await grpcError(c.image.pullImage({ image: spec(`${reg.host}/app/nothing:1`), auth: undefined, sandboxConfig: undefined }));
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
    expect(missing.details).toContain('app/nothing');
    const unreachable = await grpcError(c.image.pullImage({ image: spec('127.0.0.1:1/x/y:1'), auth: undefined, sandboxConfig: undefined }));
    expect(unreachable.code).toBe(grpc.status.UNAVAILABLE);
    expect((await c.runtime.version({ version: '' })).runtimeName).toBe('berth');
  });
});
