/**
 * Gathering what a Kata or CoCo handler needs from the host (I/O only; host-check.ts
 * decides). The probe is injected so the decisions are testable with fabricated facts.
 */
import { constants } from 'node:fs';
import { access, open, readFile } from 'node:fs/promises';
import { errnoCode, messageOf } from '../../util/errors.js';
import { which } from '../which.js';
import { KATA_DEFAULT_CONFIG_PATHS, kataConfigInfo, type KataConfigInfo } from './kata-config.js';

export const KVM_DEVICE = '/dev/kvm';
export const TDX_PARAM = '/sys/module/kvm_intel/parameters/tdx';
export const SNP_PARAM = '/sys/module/kvm_amd/parameters/sev_snp';
const KVM_MODULES = ['kvm_intel', 'kvm_amd', 'kvm_pvm'] as const;

export interface HostProbe {
  which(bin: string): Promise<string | undefined>;
  /** File text, or the errno code ("ENOENT" …) it could not be read with. */
  readText(path: string): Promise<{ text: string } | { error: string }>;
  executable(path: string): Promise<boolean>;
  exists(path: string): Promise<boolean>;
  /** undefined when `path` opens read-write, else the errno code. */
  openReadWrite(path: string): Promise<string | undefined>;
}

export const realProbe: HostProbe = {
  which: (bin) => which(bin),
  async readText(path) {
    try {
      return { text: await readFile(path, 'utf8') };
    } catch (err) {
      return { error: errnoCode(err) ?? messageOf(err) };
    }
  },
  executable: (path) => access(path, constants.X_OK).then(() => true, () => false),
  exists: (path) => access(path, constants.F_OK).then(() => true, () => false),
  async openReadWrite(path) {
    try {
      const fh = await open(path, constants.O_RDWR);
      await fh.close();
      return undefined;
    } catch (err) {
      return errnoCode(err) ?? messageOf(err);
    }
  },
};

export type ConfigFacts =
  | { path: string; state: 'ok'; info: KataConfigInfo }
  | { path: string; state: 'absent'; searched: string[] }
  | { path: string; state: 'unreadable' | 'invalid'; error: string };

export interface VmHostFacts {
  shim: { name: string; path?: string };
  config: ConfigFacts;
  /** The hypervisor binary the config names, if it names one. */
  hypervisorBinary?: { path: string; found: boolean };
  /** /dev/kvm: opened read-write, absent, or refused (errno); and which KVM modules are loaded. */
  kvm: { device: 'ok' | 'absent' | 'unusable'; error?: string; modules: string[] };
  /** Raw values of the TDX / SEV-SNP module parameters (undefined: the file does not exist). */
  tee: { tdx?: string; snp?: string };
}

async function configFacts(probe: HostProbe, configPath: string | undefined): Promise<ConfigFacts> {
  const candidates = configPath ? [configPath] : [...KATA_DEFAULT_CONFIG_PATHS];
  for (const path of candidates) {
    const r = await probe.readText(path);
    if ('error' in r) {
      if (r.error === 'ENOENT') continue;
      return { path, state: 'unreadable', error: r.error };
    }
    try {
      return { path, state: 'ok', info: kataConfigInfo(r.text) };
    } catch (err) {
      return { path, state: 'invalid', error: messageOf(err) };
    }
  }
  return { path: candidates[0]!, state: 'absent', searched: candidates };
}

async function paramValue(probe: HostProbe, path: string): Promise<string | undefined> {
  const r = await probe.readText(path);
  return 'text' in r ? r.text.trim() : undefined;
}

/** Everything host-check.ts needs for a Kata/CoCo handler. */
export async function gatherVmFacts(probe: HostProbe, shim: string, configPath: string | undefined): Promise<VmHostFacts> {
  const [shimPath, config, kvmError, kvmExists, tdx, snp] = await Promise.all([
    probe.which(shim),
    configFacts(probe, configPath),
    probe.openReadWrite(KVM_DEVICE),
    probe.exists(KVM_DEVICE),
    paramValue(probe, TDX_PARAM),
    paramValue(probe, SNP_PARAM),
  ]);
  const modules: string[] = [];
  for (const m of KVM_MODULES) if (await probe.exists(`/sys/module/${m}`)) modules.push(m);
  const hvPath = config.state === 'ok' ? config.info.hypervisor?.path : undefined;
  return {
    shim: { name: shim, ...(shimPath ? { path: shimPath } : {}) },
    config,
    ...(hvPath ? { hypervisorBinary: { path: hvPath, found: await probe.executable(hvPath) } } : {}),
    kvm: kvmError === undefined ? { device: 'ok', modules } : { device: kvmExists ? 'unusable' : 'absent', error: kvmError, modules },
    tee: { tdx, snp },
  };
}
