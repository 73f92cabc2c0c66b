/**
 * Can a Kata handler run here? Pure decisions over gathered facts (host-facts.ts), each
 * missing piece said so that a person can fix it: which binary, which file, which device.
 */
import { isAbsolute } from 'node:path';
import { REMOTE_HYPERVISORS } from './kata-config.js';
import { KVM_DEVICE, type VmHostFacts } from './host-facts.js';

export interface Verdict {
  missing: string[];
  found: Record<string, string>;
}

/** The hypervisor runs VMs on another machine (peer pods): no local KVM or TEE is needed. */
export function usesRemoteHypervisor(facts: VmHostFacts): boolean {
  return facts.config.state === 'ok' && REMOTE_HYPERVISORS.has(facts.config.info.hypervisor?.kind ?? '');
}

function checkShim(facts: VmHostFacts, v: Verdict): void {
  const { name, path } = facts.shim;
  if (path) v.found.shim = path;
  else {
    const where = isAbsolute(name) ? '' : ` in PATH (${process.env.PATH ?? ''})`;
    v.missing.push(`shim binary ${JSON.stringify(name)} not found${where}; install Kata Containers (kata-deploy installs it as /opt/kata/bin/containerd-shim-kata-v2)`);
  }
}

function checkConfig(handler: string, facts: VmHostFacts, v: Verdict): void {
  const c = facts.config;
  switch (c.state) {
    case 'ok':
      v.found.config = c.path;
      if (!c.info.hypervisor) v.missing.push(`Kata configuration ${c.path} has no [hypervisor.<name>] section`);
      else v.found.hypervisor = c.info.hypervisor.kind;
      break;
    case 'absent':
      v.missing.push(
        c.searched.length > 1
          ? `no Kata configuration file found (looked for ${c.searched.join(', ')}); set runtimes.handlers.${handler}.configPath`
          : `Kata configuration ${c.path} not found (runtimes.handlers.${handler}.configPath)`,
      );
      break;
    case 'unreadable':
      v.missing.push(`Kata configuration ${c.path} cannot be read (${c.error})`);
      break;
    case 'invalid':
      v.missing.push(`Kata configuration ${c.path} is not valid TOML: ${c.error}`);
      break;
  }
  const hb = facts.hypervisorBinary;
  if (hb && c.state === 'ok') {
    const kind = c.info.hypervisor?.kind ?? '?';
    if (hb.found) v.found.hypervisorBinary = hb.path;
    else v.missing.push(`hypervisor binary ${hb.path} (hypervisor.${kind}.path in ${c.path}) not found or not executable`);
  }
}

function checkKvm(facts: VmHostFacts, v: Verdict): void {
  const k = facts.kvm;
  if (k.device === 'absent') {
    v.missing.push(`${KVM_DEVICE} does not exist: load kvm_intel or kvm_amd (inside a VM, enable nested virtualization)`);
    return;
  }
  if (k.device === 'unusable') {
    v.missing.push(`${KVM_DEVICE} cannot be opened read-write (${k.error ?? 'unknown error'})`);
    return;
  }
  const hw = k.modules.filter((m) => m === 'kvm_intel' || m === 'kvm_amd');
  if (hw.length === 0 && k.modules.includes('kvm_pvm')) {
    v.missing.push(
      `${KVM_DEVICE} is provided by kvm_pvm, which runs only PVM-enabled guest kernels, not Kata's stock guest kernel (neither kvm_intel nor kvm_amd is loaded)`,
    );
    return;
  }
  v.found.kvm = hw.length ? `${KVM_DEVICE} (${hw.join(', ')})` : KVM_DEVICE;
}

/** Shim, configuration, hypervisor binary and (unless the hypervisor is remote) /dev/kvm. */
export function decideKataSupport(handler: string, facts: VmHostFacts): Verdict {
  const v: Verdict = { missing: [], found: {} };
  checkShim(facts, v);
  checkConfig(handler, facts, v);
  if (usesRemoteHypervisor(facts)) v.found.kvm = 'not needed (remote hypervisor)';
  else checkKvm(facts, v);
  return v;
}
