/**
 * Runtime classes against a real berthd on this host (real registry, CNI, runc shim): runc
 * and crun side by side where the host allows crun, and every refusal this host produces —
 * Kata's shim absent, TEEs absent, unknown handlers, runtime-class policy — with the exact
 * messages a kubelet would report. Nothing here fakes the host: expectations that depend on
 * it (crun's cgroup refusal, /dev/kvm, TEE module parameters) are derived from the same
 * kernel files berthd reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerState, PodSandboxState } from '../../../src/gen/runtime/v1/api.js';
import { grpc, grpcError } from '../../helpers/cri-client.js';
import { startPodEnv, type PodEnv } from '../../helpers/pod-env.js';

const KATA_SHIM = '/opt/kata/bin/containerd-shim-kata-v2';
const KATA_CONFIGS = '/opt/kata/share/defaults/kata-containers';

let env: PodEnv;
beforeAll(async () => {
  env = await startPodEnv({
    config: {
      runtimes: {
        policy: {
          namespaceDefaults: { finance: 'kata-qemu-snp' },
          rules: [
            { name: 'finance-is-confidential', match: { namespaces: ['finance'] }, require: { confidential: true } },
            { name: 'untrusted-in-a-vm', match: { labels: { trust: 'untrusted' } }, require: { handlers: ['kata*'] } },
            { name: 'quarantine-runs-nothing', match: { namespaces: ['quarantine'] }, forbid: { handlers: ['*'] } },
          ],
        },
      },
    },
  });
});
afterAll(async () => {
  await env?.cleanup();
});

interface HandlerStatus {
  type: string;
  supported: boolean;
  missing: string[];
  found: Record<string, string>;
}

async function handlerStatus(): Promise<Record<string, HandlerStatus>> {
  const st = await env.cri.runtime.status({ verbose: true });
  return JSON.parse(st.info.runtimeHandlers!) as Record<string, HandlerStatus>;
}

async function podInfo(id: string): Promise<{ runtimeHandler: string; runtimeType: string }> {
  const st = await env.cri.runtime.podSandboxStatus({ podSandboxId: id, verbose: true });
  expect(st.status!.runtimeHandler).toBeTruthy();
  return JSON.parse(st.info.info!) as { runtimeHandler: string; runtimeType: string };
}

/** The runc shim keeps the OCI runtime's state under <state>/runc/k8s.io/<id>: runc writes state.json, crun a status file. */
const runtimeStateFiles = (id: string) => readdir(join(env.d.state, 'runc', 'k8s.io', id)).catch(() => [] as string[]);

/** What berthd knows of this host's cgroups, read from the same kernel files. */
function hybridUnifiedControllers(): string[] | undefined {
  const v1 = existsSync('/sys/fs/cgroup/memory') || existsSync('/sys/fs/cgroup/cpu');
  const unified = '/sys/fs/cgroup/unified/cgroup.controllers';
  if (!v1 || !existsSync(unified)) return undefined;
  return readFileSync(unified, 'utf8').trim().split(/\s+/).filter(Boolean);
}

describe('runc and crun side by side (crun runs where the host allows it; on hybrid-cgroup hosts with cgroup2 controllers, like this one, crun is refused precisely)', () => {
  let runcPod: string;
  let runcCtr: string;
  beforeAll(async () => {
    runcPod = await env.runPod('on-runc', {}, 'runc');
    runcCtr = await env.runContainer(runcPod, 'app', ['sh', '-c', 'sleep 1000']);
  });

  it('runs a pod on runc that reports its handler and runtime, with runc state on disk', async () => {
    expect(await podInfo(runcPod)).toMatchObject({ runtimeHandler: 'runc', runtimeType: 'runc' });
    expect(await runtimeStateFiles(runcCtr)).toContain('state.json');
    expect((await env.exec(runcCtr, ['echo', 'hi'])).stdout).toBe('hi\n');
  });

  it('runs crun beside it, or refuses crun naming the cgroup layout that makes crun refuse', async () => {
    const status = (await handlerStatus()).crun!;
    const unified = hybridUnifiedControllers();
    if (unified && unified.length > 0) {
      // This host: berthd must refuse, and say why, before anything is created.
      expect(status.supported).toBe(false);
      const err = await grpcError(env.cri.runtime.runPodSandbox({ config: env.podConfig('on-crun'), runtimeHandler: 'crun' }));
      expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err.details).toBe(
        `runtime handler "crun" cannot run on this host: crun refuses hybrid cgroup hosts with controllers on the cgroup2 hierarchy (here: ${unified.join(', ')}); scripts/setup.sh moves such controllers to v1 hierarchies when cgroup2 does not use them — or use runc`,
      );
    } else {
      expect(status).toMatchObject({ supported: true, missing: [] });
      const crunPod = await env.runPod('on-crun', {}, 'crun');
      const crunCtr = await env.runContainer(crunPod, 'app', ['sh', '-c', 'sleep 1000']);
      expect(await podInfo(crunPod)).toMatchObject({ runtimeHandler: 'crun', runtimeType: 'runc' });
      const files = await runtimeStateFiles(crunCtr);
      expect(files).toContain('status');
      expect(files).not.toContain('state.json');
      expect((await env.exec(crunCtr, ['echo', 'hi'])).stdout).toBe('hi\n');
    }
    // Either way the runc pod is untouched.
    const st = await env.cri.runtime.containerStatus({ containerId: runcCtr, verbose: false });
    expect(st.status!.state).toBe(ContainerState.CONTAINER_RUNNING);
  });
});

describe('handlers this host cannot run are refused with the missing piece named', () => {
  /** Kernel facts, read here as berthd reads them. */
  const kvmPvmOnly = existsSync('/sys/module/kvm_pvm') && !existsSync('/sys/module/kvm_intel') && !existsSync('/sys/module/kvm_amd');
  const param = (p: string) => (existsSync(p) ? readFileSync(p, 'utf8').trim() : undefined);

  it('kata: the shim and its configuration are not installed (and /dev/kvm cannot run a stock guest here)', async () => {
    expect(existsSync(KATA_SHIM)).toBe(false); // precondition of this test: Kata is not installed
    const err = await grpcError(env.cri.runtime.runPodSandbox({ config: env.podConfig('k'), runtimeHandler: 'kata' }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    const pieces = err.details.replace(/^runtime handler "kata" cannot run on this host: /, '').split('; ');
    expect(pieces[0]).toBe(`shim binary "${KATA_SHIM}" not found`);
    expect(pieces[1]).toBe(`install Kata Containers (kata-deploy installs it as ${KATA_SHIM})`);
    expect(pieces[2]).toBe(`Kata configuration ${KATA_CONFIGS}/configuration-qemu.toml not found (runtimes.handlers.kata.configPath)`);
    // Machines of this kind differ: some have no /dev/kvm at all, some have it from kvm_pvm only.
    if (!existsSync('/dev/kvm')) {
      expect(pieces[3]).toBe('/dev/kvm does not exist: load kvm_intel or kvm_amd (inside a VM, enable nested virtualization)');
    } else if (kvmPvmOnly) {
      expect(pieces[3]).toBe(
        "/dev/kvm is provided by kvm_pvm, which runs only PVM-enabled guest kernels, not Kata's stock guest kernel (neither kvm_intel nor kvm_amd is loaded)",
      );
    }
  });

  it('kata-qemu-snp and kata-qemu-tdx: the TEE is absent', async () => {
    for (const [handler, file, label] of [
      ['kata-qemu-snp', '/sys/module/kvm_amd/parameters/sev_snp', 'AMD SEV-SNP'],
      ['kata-qemu-tdx', '/sys/module/kvm_intel/parameters/tdx', 'Intel TDX'],
    ] as const) {
      const err = await grpcError(env.cri.runtime.runPodSandbox({ config: env.podConfig(`t-${handler}`), runtimeHandler: handler }));
      expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(err.details).toMatch(new RegExp(`^runtime handler "${handler}" cannot run on this host: shim binary`));
      const v = param(file);
      if (v === undefined) expect(err.details).toContain(`${label} is not available: ${file} does not exist`);
      else if (v !== 'Y' && v !== '1') expect(err.details).toContain(`${label} is not enabled: ${file} is "${v}"`);
    }
  });

  it('an unknown handler lists the configured ones', async () => {
    const err = await grpcError(env.cri.runtime.runPodSandbox({ config: env.podConfig('u'), runtimeHandler: 'gvisor' }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe(
      'unknown runtime handler "gvisor"; configured handlers: runc, crun, kata, kata-qemu-tdx, kata-qemu-snp, kata-qemu-coco-dev (runtimes.handlers in the berth config)',
    );
  });

  it('Status shows every handler with what it found and what is missing', async () => {
    const s = await handlerStatus();
    expect(Object.keys(s)).toEqual(['runc', 'crun', 'kata', 'kata-qemu-tdx', 'kata-qemu-snp', 'kata-qemu-coco-dev']);
    expect(s.runc).toMatchObject({ type: 'runc', supported: true, missing: [] });
    expect(s.runc!.found.runtime).toMatch(/\/runc$/);
    expect(s['kata-qemu-snp']).toMatchObject({ type: 'coco', supported: false });
    expect(s['kata-qemu-snp']!.missing[0]).toBe(`shim binary "${KATA_SHIM}" not found; install Kata Containers (kata-deploy installs it as ${KATA_SHIM})`);
  });
});

describe('runtime-class policy', () => {
  it('refuses every pod in a namespace a rule closes, with PERMISSION_DENIED naming the rule', async () => {
    const cfg = env.podConfig('q');
    cfg.metadata!.namespace = 'quarantine';
    const err = await grpcError(env.cri.runtime.runPodSandbox({ config: cfg, runtimeHandler: 'runc' }));
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toBe(
      'runtime-class policy rule "quarantine-runs-nothing" refuses runtime handler "runc" for pod quarantine/q: pods in namespace quarantine must not use a handler named *; no configured handler satisfies it',
    );
  });

  it('requires a kata* handler for pods labelled trust=untrusted', async () => {
    const err = await grpcError(env.cri.runtime.runPodSandbox({ config: env.podConfig('untrusted', { labels: { trust: 'untrusted' } }), runtimeHandler: 'runc' }));
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toBe(
      'runtime-class policy rule "untrusted-in-a-vm" refuses runtime handler "runc" for pod test/untrusted: pods labelled trust=untrusted must use a handler named kata*; handlers allowed for this pod: kata, kata-qemu-tdx, kata-qemu-snp, kata-qemu-coco-dev',
    );
  });

  it('gives a finance pod that names no handler its namespace default (a confidential handler), which this host then refuses', async () => {
    const cfg = env.podConfig('ledger');
    cfg.metadata!.namespace = 'finance';
    const err = await grpcError(env.cri.runtime.runPodSandbox({ config: cfg, runtimeHandler: '' }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/^runtime handler "kata-qemu-snp" cannot run on this host: /);
    const runc = await grpcError(env.cri.runtime.runPodSandbox({ config: cfg, runtimeHandler: 'runc' }));
    expect(runc.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(runc.details).toMatch(/^runtime-class policy rule "finance-is-confidential" refuses runtime handler "runc" for pod finance\/ledger: pods in namespace finance must use a handler that is confidential \(CoCo in a hardware TEE\); handlers allowed for this pod: kata-qemu-tdx, kata-qemu-snp$/);
  });

  it('lets pods the rules do not cover run, and refusals leave nothing behind', async () => {
    const id = await env.runPod('allowed', { labels: { trust: 'trusted' } }, 'runc');
    const st = await env.cri.runtime.podSandboxStatus({ podSandboxId: id, verbose: false });
    expect(st.status!.state).toBe(PodSandboxState.SANDBOX_READY);
    const pods = await env.cri.runtime.listPodSandbox({ filter: undefined });
    expect(pods.items.map((p) => p.metadata!.name).sort()).toEqual(expect.arrayContaining(['allowed', 'on-runc']));
    const refused = ['q', 'untrusted', 'ledger', 'k', 'u', 't-kata-qemu-snp', 't-kata-qemu-tdx'];
    expect(pods.items.filter((p) => refused.includes(p.metadata!.name))).toEqual([]);
    const bundles = await readdir(join(env.d.state, 'bundles'));
    for (const b of bundles) expect(pods.items.map((p) => p.id).concat((await env.cri.runtime.listContainers({ filter: undefined })).containers.map((c) => c.id))).toContain(b);
  });
});
