/**
 * What the Kata and CoCo backends change in a generated spec, and what they send the shim:
 * sizing (resources + overhead), pass-through annotations, guest pull, initdata, devices.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/daemon/config.js';
import { ContainerConfig, PodSandboxConfig } from '../../../src/gen/runtime/v1/api.js';
import { Code, type BerthError } from '../../../src/util/errors.js';
import type { SpecContext } from '../../../src/runtimes/backend.js';
import { CocoBackend } from '../../../src/runtimes/coco/backend.js';
import { INITDATA_ANNOTATION, decodeInitdata, parseInitdata } from '../../../src/runtimes/coco/initdata.js';
import { KataBackend } from '../../../src/runtimes/kata/backend.js';
import { FORCE_GUEST_PULL, guestImageRef } from '../../../src/runtimes/kata/guest-pull.js';
import { decodeRuntimeOptions, encodeRuntimeOptions, RUNTIME_OPTIONS_TYPE_URL, unpackRuntimeOptions } from '../../../src/runtimes/kata/options.js';
import { sandboxSize, vmAddition } from '../../../src/runtimes/kata/sizing.js';
import type { Spec } from '../../../src/runtimes/oci/spec-types.js';
import { RuncBackend } from '../../../src/runtimes/runc/backend.js';

const handlers = parseConfig({}).runtimes.handlers;
const res = (cpuQuota: number, cpuPeriod: number, memMiB: number, shares = 0) => ({
  cpuPeriod: BigInt(cpuPeriod),
  cpuQuota: BigInt(cpuQuota),
  cpuShares: BigInt(shares),
  memoryLimitInBytes: BigInt(memMiB) << 20n,
  oomScoreAdj: 0n,
  cpusetCpus: '',
  cpusetMems: '',
  hugepageLimits: [],
  unified: {},
  memorySwapLimitInBytes: 0n,
});

type PodInput = Parameters<typeof PodSandboxConfig.fromPartial>[0];
function pod(extra: Record<string, unknown> = {}): PodSandboxConfig {
  return PodSandboxConfig.fromPartial({ metadata: { name: 'p', namespace: 'ns', uid: 'u1', attempt: 0 }, ...extra } as PodInput);
}

const spec = (annotations: Record<string, string> = {}): Spec => ({ ociVersion: '1.1.0', annotations: { ...annotations } });

function sandboxCtx(p: PodSandboxConfig): SpecContext {
  return { podId: 'pod1', containerId: 'pod1', kind: 'sandbox', podAnnotations: p.annotations, containerAnnotations: {}, pod: p };
}

describe('VM sizing', () => {
  it('adds the overhead to a bounded pod: 1.5 CPU + 0.25 → quota 175000 of 100000; 512 MiB + 160 MiB', () => {
    const s = sandboxSize(res(150_000, 100_000, 512, 1536), res(25_000, 100_000, 160, 256))!;
    expect(s).toEqual({ cpuPeriod: 100_000n, cpuQuota: 175_000n, cpuShares: 1792n, memoryBytes: 672n << 20n });
    expect(vmAddition(s)).toEqual({ vcpus: 2, memoryMiB: 672 });
  });

  it('keeps unbounded dimensions unbounded and works without overhead', () => {
    expect(sandboxSize(res(-1, 100_000, 0, 2), res(25_000, 100_000, 160))).toEqual({ cpuPeriod: 100_000n, cpuQuota: -1n, cpuShares: 2n, memoryBytes: 0n });
    expect(sandboxSize(res(50_000, 50_000, 128), undefined)).toEqual({ cpuPeriod: 50_000n, cpuQuota: 50_000n, cpuShares: 0n, memoryBytes: 128n << 20n });
    expect(sandboxSize(undefined, res(1, 1, 1))).toBeUndefined();
  });
});

describe('runtimeoptions.v1.Options', () => {
  it('encodes config_path as field 2 and reads it back', () => {
    const bytes = encodeRuntimeOptions({ configPath: '/opt/kata/x.toml' });
    expect(Buffer.from(bytes).toString('hex')).toBe(`12${(16).toString(16)}${Buffer.from('/opt/kata/x.toml').toString('hex')}`);
    expect(decodeRuntimeOptions(bytes).configPath).toBe('/opt/kata/x.toml');
  });

  it('is what the Kata backend sends as shim options', () => {
    const any = new KataBackend('kata', handlers.kata!).shimOptions();
    expect(any.typeUrl).toBe(RUNTIME_OPTIONS_TYPE_URL);
    expect(unpackRuntimeOptions(any).configPath).toBe('/opt/kata/share/defaults/kata-containers/configuration-qemu.toml');
  });
});

describe('Kata backend spec', () => {
  it('sizes the sandbox, passes allowlisted io.katacontainers.* annotations only, and is not guest-pull', async () => {
    const p = pod({
      annotations: { 'io.katacontainers.config.hypervisor.default_vcpus': '2', 'example.com/other': 'x' },
      linux: { resources: res(200_000, 100_000, 1024), overhead: res(25_000, 100_000, 320) },
    });
    const s = spec({ 'io.kubernetes.cri.sandbox-cpu-quota': '200000' });
    const kata = new KataBackend('kata', handlers.kata!);
    await kata.adjustSpec(s, sandboxCtx(p));
    expect(s.annotations).toEqual({
      'io.katacontainers.config.hypervisor.default_vcpus': '2',
      'io.kubernetes.cri.sandbox-cpu-period': '100000',
      'io.kubernetes.cri.sandbox-cpu-quota': '225000',
      'io.kubernetes.cri.sandbox-cpu-shares': '0',
      'io.kubernetes.cri.sandbox-memory': String(1344 << 20),
    });
    expect(kata.imagePull).toBe('host');
    expect([kata.isolation, kata.statsSource, kata.qosScope]).toEqual(['vm', 'shim', 'sandbox']);
  });

  it('gives a privileged container only its requested devices (privilegedWithoutHostDevices)', async () => {
    const c = ContainerConfig.fromPartial({
      metadata: { name: 'c' },
      devices: [{ hostPath: '/dev/fuse', containerPath: '/dev/fuse', permissions: 'rw' }],
      linux: { securityContext: { privileged: true } },
    });
    const s: Spec = {
      ociVersion: '1.1.0',
      linux: {
        devices: [
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
          { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
        ],
        resources: { devices: [{ allow: true, access: 'rwm' }] },
      },
    };
    const ctx: SpecContext = { podId: 'p', containerId: 'c', kind: 'container', podAnnotations: {}, containerAnnotations: {}, container: c };
    await new KataBackend('kata', handlers.kata!).adjustSpec(s, ctx);
    expect(s.linux!.devices).toEqual([{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]);
    expect(s.linux!.resources!.devices).toEqual([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    ]);
    // runc keeps host devices unless the handler asks otherwise.
    const s2: Spec = { ociVersion: '1.1.0', linux: { devices: [{ path: '/dev/sda', type: 'b', major: 8, minor: 0 }] } };
    new RuncBackend('runc', handlers.runc!).adjustSpec(s2, ctx);
    expect(s2.linux!.devices).toHaveLength(1);
  });
});

describe('CoCo backend spec', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-coco-unit-'));
    await writeFile(join(dir, 'policy.rego'), 'package agent_policy\ndefault ExecProcessRequest := false\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const coco = (extra: Record<string, unknown> = {}) =>
    new CocoBackend(
      'c',
      parseConfig({
        runtimes: { handlers: { c: { type: 'coco', tee: 'snp', shim: 'x', podAnnotations: ['io.katacontainers.*'], ...extra } } },
      }).runtimes.handlers.c!,
    );

  it('forces guest pull on the sandbox and builds initdata from the handler settings', async () => {
    const b = coco({ coco: { kbsUrl: 'http://kbs.example:8080', policyPath: join(dir, 'policy.rego') } });
    expect(b.imagePull).toBe('guest');
    const s = spec();
    await b.adjustSpec(s, sandboxCtx(pod()));
    expect(s.annotations![FORCE_GUEST_PULL]).toBe('true');
    const d = parseInitdata(decodeInitdata(s.annotations![INITDATA_ANNOTATION]!));
    expect(d.algorithm).toBe('sha384');
    expect(d.data['policy.rego']).toBe('package agent_policy\ndefault ExecProcessRequest := false\n');
    expect(d.data['cdh.toml']).toContain('url = "http://kbs.example:8080"');
  });

  it("keeps a pod's valid initdata, refuses an invalid one with INVALID_ARGUMENT", async () => {
    const b = coco({ coco: { kbsUrl: 'http://kbs.example:8080' } });
    const mine = (await coco({ coco: { kbsUrl: 'http://mine:1' } }).handlerInitdata())!;
    const p = pod({ annotations: { [INITDATA_ANNOTATION]: mine } });
    const s = spec({ [INITDATA_ANNOTATION]: mine });
    await b.adjustSpec(s, sandboxCtx(p));
    expect(s.annotations![INITDATA_ANNOTATION]).toBe(mine);
    const bad = pod({ annotations: { [INITDATA_ANNOTATION]: 'Zm9v' } });
    const err = (await b.adjustSpec(spec(bad.annotations), sandboxCtx(bad)).catch((e: unknown) => e)) as BerthError;
    expect(err.code).toBe(Code.INVALID_ARGUMENT);
    expect(err.message).toMatch(/^pod annotation io\.katacontainers\.config\.hypervisor\.cc_init_data is not valid initdata: is not gzip data/);
  });

  it('tells the guest to pull the digest the host resolved, and refuses an image with no pullable name', async () => {
    const s = spec();
    const ctx: SpecContext = {
      podId: 'p',
      containerId: 'c',
      kind: 'container',
      podAnnotations: {},
      containerAnnotations: {},
      image: { name: 'sha256:' + 'a'.repeat(64), id: 'sha256:' + 'a'.repeat(64), repoDigests: ['reg:5000/app@sha256:' + 'b'.repeat(64)], repoTags: ['reg:5000/app:1'] },
    };
    await coco().adjustSpec(s, ctx);
    expect(s.annotations!['io.kubernetes.cri.image-name']).toBe('reg:5000/app@sha256:' + 'b'.repeat(64));
    expect(guestImageRef({ name: 'app:1', id: 'x', repoDigests: [], repoTags: [], userSpecified: 'docker.io/library/app:1' })).toBe('docker.io/library/app:1');
    expect(() => guestImageRef({ name: 'a'.repeat(64), id: 'sha256:1', repoDigests: [], repoTags: [] })).toThrow(/no repository name or digest/);
  });
});
