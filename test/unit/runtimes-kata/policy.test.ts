/**
 * Runtime-class policy: config validation, default handlers per namespace, and the order of
 * refusals in the registry (unknown handler → policy → host), with the exact messages.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_HANDLERS, parseConfig } from '../../../src/daemon/config.js';
import { PodSandboxConfig } from '../../../src/gen/runtime/v1/api.js';
import { Code, type BerthError } from '../../../src/util/errors.js';
import type { HostProbe } from '../../../src/runtimes/kata/host-facts.js';
import { HandlerRegistry } from '../../../src/runtimes/registry.js';
import { checkPolicy, chooseHandler, type HandlerFacts } from '../../../src/runtimes/policy/evaluate.js';

const POLICY = {
  namespaceDefaults: { finance: 'kata-qemu-snp', 'sandbox-*': 'kata' },
  rules: [
    { name: 'finance-is-confidential', match: { namespaces: ['finance'] }, require: { confidential: true } },
    { name: 'untrusted-in-a-vm', match: { labels: { trust: 'untrusted' } }, require: { handlers: ['kata*'] } },
    { name: 'no-crun-in-prod', match: { namespaces: ['prod-*'] }, forbid: { handlers: ['crun'] } },
  ],
};

/** A host with everything Kata and SNP need (so host checks pass and policy is what decides). */
const snpHost: HostProbe = {
  which: async (b) => b,
  readText: async (p) =>
    p.endsWith('.toml') ? { text: '[hypervisor.qemu]\nenable_annotations = ["cc_init_data"]\n' } : p.endsWith('sev_snp') ? { text: 'Y\n' } : { error: 'ENOENT' },
  executable: async () => true,
  exists: async (p) => p === '/dev/kvm' || p === '/sys/module/kvm_amd',
  openReadWrite: async () => undefined,
};

const registry = () => new HandlerRegistry(parseConfig({ runtimes: { policy: POLICY } }).runtimes, { probe: snpHost, cgroup: { mode: 'v2', unifiedControllers: [] } });

const podCfg = (namespace: string, labels: Record<string, string> = {}) =>
  PodSandboxConfig.fromPartial({ metadata: { name: 'web', namespace, uid: 'u', attempt: 0 }, labels });

async function refusal(p: Promise<unknown>): Promise<[Code, string]> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as BerthError | undefined;
  if (!err) throw new Error('expected a refusal');
  return [err.code, err.message];
}

describe('config', () => {
  it('declares runc, crun and the kata-deploy handlers by default, and lays configured handlers over them', () => {
    const c = parseConfig({});
    expect(Object.keys(c.runtimes.handlers)).toEqual(Object.keys(DEFAULT_HANDLERS));
    expect(Object.keys(c.runtimes.handlers)).toEqual(['runc', 'crun', 'kata', 'kata-qemu-tdx', 'kata-qemu-snp', 'kata-qemu-coco-dev']);
    expect(c.runtimes.handlers['kata-qemu-snp']).toMatchObject({
      type: 'coco',
      tee: 'snp',
      shim: '/opt/kata/bin/containerd-shim-kata-v2',
      configPath: '/opt/kata/share/defaults/kata-containers/configuration-qemu-snp.toml',
      podAnnotations: ['io.katacontainers.*'],
      privilegedWithoutHostDevices: true,
    });
    const m = parseConfig({ runtimes: { handlers: { crun: null, mine: { type: 'kata', shim: '/x' } } } });
    expect(Object.keys(m.runtimes.handlers)).toEqual(['runc', 'kata', 'kata-qemu-tdx', 'kata-qemu-snp', 'kata-qemu-coco-dev', 'mine']);
  });

  it('refuses handler settings that do not fit the type, and policies naming unknown handlers', () => {
    const bad = (input: unknown) => {
      try {
        parseConfig(input);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a config error');
    };
    expect(bad({ runtimes: { handlers: { x: { type: 'runc', imagePull: 'guest' } } } })).toContain('runtimes.handlers.x.imagePull: runc-type handlers cannot pull images in a guest');
    expect(bad({ runtimes: { handlers: { x: { type: 'kata', tee: 'tdx' } } } })).toContain('runtimes.handlers.x.tee: only coco handlers run in a TEE');
    expect(bad({ runtimes: { handlers: { x: { type: 'coco', coco: { kbsUrl: 'kbs:8080' } } } } })).toContain('runtimes.handlers.x.coco.kbsUrl: expected an http:// or https:// URL');
    expect(bad({ runtimes: { policy: { namespaceDefaults: { a: 'nosuch' } } } })).toContain('runtimes.policy.namespaceDefaults.a: handler "nosuch" is not configured');
    expect(bad({ runtimes: { policy: { rules: [{ name: 'r', require: { handlers: ['gvisor*'] } }] } } })).toContain(
      'runtimes.policy.rules[0].require.handlers[0]: "gvisor*" matches no configured handler',
    );
    expect(bad({ runtimes: { policy: { rules: [{ name: 'r', match: {} }] } } })).toContain('a rule needs require or forbid');
    expect(bad({ runtimes: { policy: { rules: [{ name: 'r', require: {} }] } } })).toContain('a handler selector needs at least one of');
  });
});

describe('policy decisions', () => {
  const policy = parseConfig({ runtimes: { policy: POLICY } }).runtimes.policy;
  const h = (name: string, type: HandlerFacts['type'], confidential = false): HandlerFacts => ({ name, type, confidential, vm: type !== 'runc' });
  const all = [h('runc', 'runc'), h('kata', 'kata'), h('kata-qemu-snp', 'coco', true), h('kata-qemu-coco-dev', 'coco')];

  it('chooses the requested handler, else the namespace default (exact, then glob), else the global default', () => {
    expect(chooseHandler(policy, 'finance', 'runc', 'runc')).toEqual({ handler: 'runc', source: 'request' });
    expect(chooseHandler(policy, 'finance', '', 'runc')).toEqual({ handler: 'kata-qemu-snp', source: 'namespace' });
    expect(chooseHandler(policy, 'sandbox-7', '', 'runc')).toEqual({ handler: 'kata', source: 'namespace' });
    expect(chooseHandler(policy, 'default', '', 'runc')).toEqual({ handler: 'runc', source: 'global' });
  });

  it('names the rule and the allowed handlers', () => {
    const pod = { name: 'web', namespace: 'finance', labels: {}, annotations: {} };
    expect(checkPolicy(policy, pod, all[3]!, all)).toEqual({
      rule: 'finance-is-confidential',
      message:
        'runtime-class policy rule "finance-is-confidential" refuses runtime handler "kata-qemu-coco-dev" for pod finance/web: ' +
        'pods in namespace finance must use a handler that is confidential (CoCo in a hardware TEE); handlers allowed for this pod: kata-qemu-snp',
    });
    expect(checkPolicy(policy, pod, all[2]!, all)).toBeUndefined();
    const prod = { name: 'x', namespace: 'prod-eu', labels: {}, annotations: {} };
    expect(checkPolicy(policy, prod, h('crun', 'runc'), [...all, h('crun', 'runc')])?.message).toMatch(
      /pods in namespace prod-\* must not use a handler named crun; handlers allowed for this pod: runc, kata, kata-qemu-snp, kata-qemu-coco-dev$/,
    );
  });
});

describe('registry', () => {
  it('refuses a policy violation with PERMISSION_DENIED before looking at the host', async () => {
    const [code, msg] = await refusal(registry().resolve('runc', podCfg('default', { trust: 'untrusted' })));
    expect(code).toBe(Code.PERMISSION_DENIED);
    expect(msg).toBe(
      'runtime-class policy rule "untrusted-in-a-vm" refuses runtime handler "runc" for pod default/web: ' +
        'pods labelled trust=untrusted must use a handler named kata*; handlers allowed for this pod: kata, kata-qemu-tdx, kata-qemu-snp, kata-qemu-coco-dev',
    );
  });

  it('gives a pod that names no handler its namespace default, then checks the host', async () => {
    const r = registry();
    const got = await r.resolveWithChoice('', podCfg('finance'));
    expect(got.backend.name).toBe('kata-qemu-snp');
    expect(got.choice.source).toBe('namespace');
    const [code, msg] = await refusal(r.resolve('kata-qemu-tdx', podCfg('finance')));
    expect(code).toBe(Code.FAILED_PRECONDITION);
    expect(msg).toBe(
      'runtime handler "kata-qemu-tdx" cannot run on this host: Intel TDX is not available: /sys/module/kvm_intel/parameters/tdx does not exist (kvm_intel is not loaded, or this kernel has no Intel TDX host support)',
    );
  });

  it('lists the configured handlers for an unknown one', async () => {
    const [code, msg] = await refusal(registry().resolve('gvisor', podCfg('default')));
    expect(code).toBe(Code.INVALID_ARGUMENT);
    expect(msg).toBe(
      'unknown runtime handler "gvisor"; configured handlers: runc, crun, kata, kata-qemu-tdx, kata-qemu-snp, kata-qemu-coco-dev (runtimes.handlers in the berth config)',
    );
  });

  it('caches host checks and checks again after refresh()', async () => {
    let reads = 0;
    const counting: HostProbe = { ...snpHost, readText: async (p) => (reads++, snpHost.readText(p)) };
    const r = new HandlerRegistry(parseConfig({}).runtimes, { probe: counting });
    await r.support('kata');
    const after = reads;
    await r.support('kata');
    expect(reads).toBe(after);
    r.refresh();
    await r.support('kata');
    expect(reads).toBeGreaterThan(after);
  });
});
