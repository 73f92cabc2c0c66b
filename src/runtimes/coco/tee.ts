/**
 * TEE detection for CoCo handlers (pure, over facts gathered by kata/host-facts.ts):
 *  - Intel TDX: /sys/module/kvm_intel/parameters/tdx reads Y (kvm_intel loaded with tdx=1
 *    on a TDX-enabled host);
 *  - AMD SEV-SNP: /sys/module/kvm_amd/parameters/sev_snp reads Y.
 * A handler whose TEE is absent is refused, never run without it.
 */
import { SNP_PARAM, TDX_PARAM, type VmHostFacts } from '../kata/host-facts.js';
import type { Verdict } from '../kata/host-check.js';

export type Tee = 'none' | 'tdx' | 'snp';

/** The TEE a handler asks for: its `tee`, else guessed from a kata-deploy config name, else none. */
export function teeOf(tee: Tee | undefined, configPath: string | undefined): Tee {
  if (tee) return tee;
  const base = (configPath ?? '').split('/').pop() ?? '';
  if (/-tdx\b/.test(base)) return 'tdx';
  if (/-snp\b/.test(base)) return 'snp';
  return 'none';
}

const enabled = (v: string | undefined) => v === 'Y' || v === 'y' || v === '1';

const TEES = {
  tdx: { label: 'Intel TDX', param: TDX_PARAM, module: 'kvm_intel', flag: 'tdx=1' },
  snp: { label: 'AMD SEV-SNP', param: SNP_PARAM, module: 'kvm_amd', flag: 'sev_snp=1' },
} as const;

/** Add the TEE's verdict; `remote`: the VM runs elsewhere (peer pods), so no local TEE is needed. */
export function checkTee(tee: Tee, facts: VmHostFacts, remote: boolean, v: Verdict): void {
  if (tee === 'none') {
    v.found.tee = 'none (no TEE: not confidential)';
    return;
  }
  const t = TEES[tee];
  if (remote) {
    v.found.tee = `${tee} (remote hypervisor: provided by the machine that runs the VM)`;
    return;
  }
  const value = tee === 'tdx' ? facts.tee.tdx : facts.tee.snp;
  if (enabled(value)) {
    v.found.tee = `${tee} (${t.param}=${value})`;
    return;
  }
  v.missing.push(
    value === undefined
      ? `${t.label} is not available: ${t.param} does not exist (${t.module} is not loaded, or this kernel has no ${t.label} host support)`
      : `${t.label} is not enabled: ${t.param} is ${JSON.stringify(value)} (enable it in the firmware and load ${t.module} with ${t.flag})`,
  );
}
