/**
 * Host checks of Kata and CoCo handlers over fabricated hosts (a fake probe): every missing
 * piece is reported with the exact file, device or kernel flag.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/daemon/config.js';
import { CocoBackend } from '../../../src/runtimes/coco/backend.js';
import { KataBackend } from '../../../src/runtimes/kata/backend.js';
import type { HostProbe } from '../../../src/runtimes/kata/host-facts.js';

const QEMU_CONFIG = `
[hypervisor.qemu]
path = "/opt/kata/bin/qemu-system-x86_64"
enable_annotations = ["enable_iommu", "kernel_params", "default_vcpus", "default_memory", "cc_init_data"]
`;

interface FakeHost {
  files?: Record<string, string>;
  executables?: string[];
  dirs?: string[];
  kvm?: 'ok' | 'absent' | 'EACCES';
}

function probe(h: FakeHost): HostProbe {
  const files = h.files ?? {};
  const exes = new Set(h.executables ?? []);
  const dirs = new Set(h.dirs ?? []);
  return {
    which: async (bin) => (exes.has(bin) ? bin : undefined),
    readText: async (path) => (path in files ? { text: files[path]! } : { error: 'ENOENT' }),
    executable: async (path) => exes.has(path),
    exists: async (path) => dirs.has(path) || path in files || (path === '/dev/kvm' && h.kvm !== 'absent' && h.kvm !== undefined),
    openReadWrite: async (path) => (path === '/dev/kvm' ? (h.kvm === 'ok' ? undefined : h.kvm === 'EACCES' ? 'EACCES' : 'ENOENT') : 'ENOENT'),
  };
}

const handlers = parseConfig({}).runtimes.handlers;
const SHIM = '/opt/kata/bin/containerd-shim-kata-v2';
const CFG = (n: string) => `/opt/kata/share/defaults/kata-containers/configuration-${n}.toml`;

/** A host where Kata is installed by kata-deploy and KVM works on Intel. */
const goodIntel: FakeHost = {
  files: { [CFG('qemu')]: QEMU_CONFIG, [CFG('qemu-tdx')]: QEMU_CONFIG, [CFG('qemu-snp')]: QEMU_CONFIG, [CFG('qemu-coco-dev')]: QEMU_CONFIG },
  executables: [SHIM, '/opt/kata/bin/qemu-system-x86_64'],
  dirs: ['/sys/module/kvm_intel'],
  kvm: 'ok',
};

describe('Kata host checks', () => {
  it('accepts a host with the shim, the config, the hypervisor binary and usable KVM', async () => {
    const s = await new KataBackend('kata', handlers.kata!, probe(goodIntel)).checkHost();
    expect(s.missing).toEqual([]);
    expect(s.ok).toBe(true);
    expect(s.found).toEqual({
      shim: SHIM,
      config: CFG('qemu'),
      hypervisor: 'qemu',
      hypervisorBinary: '/opt/kata/bin/qemu-system-x86_64',
      kvm: '/dev/kvm (kvm_intel)',
    });
  });

  it('names every missing piece on a host without Kata (this one: kvm_pvm only)', async () => {
    const s = await new KataBackend('kata', handlers.kata!, probe({ dirs: ['/sys/module/kvm_pvm'], kvm: 'ok' })).checkHost();
    expect(s.ok).toBe(false);
    expect(s.missing).toEqual([
      `shim binary "${SHIM}" not found; install Kata Containers (kata-deploy installs it as /opt/kata/bin/containerd-shim-kata-v2)`,
      `Kata configuration ${CFG('qemu')} not found (runtimes.handlers.kata.configPath)`,
      "/dev/kvm is provided by kvm_pvm, which runs only PVM-enabled guest kernels, not Kata's stock guest kernel (neither kvm_intel nor kvm_amd is loaded)",
    ]);
  });

  it('reports an absent or unusable /dev/kvm and a missing hypervisor binary', async () => {
    const noKvm = await new KataBackend('kata', handlers.kata!, probe({ ...goodIntel, kvm: 'absent' })).checkHost();
    expect(noKvm.missing).toEqual(['/dev/kvm does not exist: load kvm_intel or kvm_amd (inside a VM, enable nested virtualization)']);
    const denied = await new KataBackend('kata', handlers.kata!, probe({ ...goodIntel, kvm: 'EACCES' })).checkHost();
    expect(denied.missing).toEqual(['/dev/kvm cannot be opened read-write (EACCES)']);
    const noQemu = await new KataBackend('kata', handlers.kata!, probe({ ...goodIntel, executables: [SHIM] })).checkHost();
    expect(noQemu.missing).toEqual([
      `hypervisor binary /opt/kata/bin/qemu-system-x86_64 (hypervisor.qemu.path in ${CFG('qemu')}) not found or not executable`,
    ]);
  });

  it('reports a config that is not TOML, and searches Kata default paths when none is configured', async () => {
    const bad = await new KataBackend('kata', handlers.kata!, probe({ ...goodIntel, files: { [CFG('qemu')]: '[hypervisor.qemu\n' } })).checkHost();
    expect(bad.missing).toEqual([expect.stringMatching(new RegExp(`^Kata configuration ${CFG('qemu')} is not valid TOML: line 1: `))]);
    const cfg = parseConfig({ runtimes: { handlers: { k: { type: 'kata', shim: SHIM } } } }).runtimes.handlers.k!;
    const none = await new KataBackend('k', cfg, probe({ ...goodIntel, files: {} })).checkHost();
    expect(none.missing).toEqual([
      'no Kata configuration file found (looked for /etc/kata-containers/configuration.toml, /opt/kata/share/defaults/kata-containers/configuration.toml, /usr/share/defaults/kata-containers/configuration.toml); set runtimes.handlers.k.configPath',
    ]);
  });

  it('needs no local KVM for a remote hypervisor (peer pods)', async () => {
    const cfg = parseConfig({ runtimes: { handlers: { r: { type: 'kata', shim: SHIM, configPath: '/etc/kata/remote.toml' } } } }).runtimes.handlers.r!;
    const s = await new KataBackend('r', cfg, probe({ files: { '/etc/kata/remote.toml': '[hypervisor.remote]\n' }, executables: [SHIM] })).checkHost();
    expect(s.missing).toEqual([]);
    expect(s.found.kvm).toBe('not needed (remote hypervisor)');
  });
});

describe('CoCo host checks', () => {
  it('refuses TDX and SEV-SNP handlers on a host without the TEE, naming the kernel flag', async () => {
    const tdx = await new CocoBackend('kata-qemu-tdx', handlers['kata-qemu-tdx']!, probe(goodIntel)).checkHost();
    expect(tdx.missing).toEqual([
      'Intel TDX is not available: /sys/module/kvm_intel/parameters/tdx does not exist (kvm_intel is not loaded, or this kernel has no Intel TDX host support)',
    ]);
    const snp = await new CocoBackend('kata-qemu-snp', handlers['kata-qemu-snp']!, probe(goodIntel)).checkHost();
    expect(snp.missing).toEqual([
      'AMD SEV-SNP is not available: /sys/module/kvm_amd/parameters/sev_snp does not exist (kvm_amd is not loaded, or this kernel has no AMD SEV-SNP host support)',
    ]);
    const off = probe({ ...goodIntel, files: { ...goodIntel.files, '/sys/module/kvm_intel/parameters/tdx': 'N\n' } });
    const tdxOff = await new CocoBackend('kata-qemu-tdx', handlers['kata-qemu-tdx']!, off).checkHost();
    expect(tdxOff.missing).toEqual([
      'Intel TDX is not enabled: /sys/module/kvm_intel/parameters/tdx is "N" (enable it in the firmware and load kvm_intel with tdx=1)',
    ]);
  });

  it('accepts a TDX host and a coco-dev handler without a TEE', async () => {
    const on = probe({ ...goodIntel, files: { ...goodIntel.files, '/sys/module/kvm_intel/parameters/tdx': 'Y\n' } });
    const tdx = new CocoBackend('kata-qemu-tdx', handlers['kata-qemu-tdx']!, on);
    expect((await tdx.checkHost()).found.tee).toBe('tdx (/sys/module/kvm_intel/parameters/tdx=Y)');
    expect(tdx.confidential).toBe(true);
    const dev = new CocoBackend('kata-qemu-coco-dev', handlers['kata-qemu-coco-dev']!, probe(goodIntel));
    const s = await dev.checkHost();
    expect(s.ok).toBe(true);
    expect(s.found.tee).toBe('none (no TEE: not confidential)');
    expect(dev.confidential).toBe(false);
  });

  it('infers the TEE from a kata-deploy config name when `tee` is not set', () => {
    const c = parseConfig({ runtimes: { handlers: { x: { type: 'coco', shim: SHIM, configPath: CFG('qemu-snp') } } } }).runtimes.handlers.x!;
    expect(new CocoBackend('x', c).tee).toBe('snp');
  });

  it('requires the cc_init_data annotation to be enabled when initdata will be sent, and a readable policy', async () => {
    const cfg = parseConfig({
      runtimes: {
        handlers: {
          c: { type: 'coco', tee: 'none', shim: SHIM, configPath: '/k/c.toml', coco: { kbsUrl: 'http://kbs:8080', policyPath: '/k/policy.rego' } },
        },
      },
    }).runtimes.handlers.c!;
    const host = probe({ ...goodIntel, files: { '/k/c.toml': '[hypervisor.qemu]\nenable_annotations = ["kernel_params"]\n' } });
    const s = await new CocoBackend('c', cfg, host).checkHost();
    expect(s.missing).toEqual([
      'Kata configuration /k/c.toml does not enable the cc_init_data annotation that initdata travels in (add "cc_init_data" to hypervisor.qemu.enable_annotations)',
      'agent policy /k/policy.rego (runtimes.handlers.c.coco.policyPath) cannot be read (ENOENT)',
    ]);
  });
});
