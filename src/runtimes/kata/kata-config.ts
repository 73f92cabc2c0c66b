/**
 * What berth reads from a Kata configuration file (configuration-*.toml): the hypervisor
 * section (`[hypervisor.<kind>]`: its binary `path` and `enable_annotations`) and
 * `[runtime] experimental_force_guest_pull`. Used by host checks only; Kata itself reads the
 * file (berth sends its path to the shim).
 */
import { parseToml, type TomlTable, type TomlValue } from './toml.js';

export interface KataHypervisor {
  /** Section name: qemu, clh, fc, dragonball, stratovirt, remote … */
  kind: string;
  /** The hypervisor binary (absent for "remote", which runs VMs elsewhere). */
  path?: string;
  /** Regexps of hypervisor annotations the runtime accepts (io.katacontainers.config.hypervisor.<name>). */
  enableAnnotations: string[];
}

export interface KataConfigInfo {
  hypervisor?: KataHypervisor;
  forceGuestPull: boolean;
}

/** Kata's own search order when no config path is given (kata-deploy's prefix included). */
export const KATA_DEFAULT_CONFIG_PATHS = [
  '/etc/kata-containers/configuration.toml',
  '/opt/kata/share/defaults/kata-containers/configuration.toml',
  '/usr/share/defaults/kata-containers/configuration.toml',
] as const;

/** Hypervisors that run the VM on another machine and need no /dev/kvm here. */
export const REMOTE_HYPERVISORS = new Set(['remote']);

const isTable = (v: TomlValue | undefined): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Extract the facts above from a parsed config. Throws TomlError for a file that is not TOML. */
export function kataConfigInfo(text: string): KataConfigInfo {
  const doc = parseToml(text);
  const hv = isTable(doc.hypervisor) ? doc.hypervisor : {};
  const kind = Object.keys(hv).find((k) => isTable(hv[k]));
  let hypervisor: KataHypervisor | undefined;
  if (kind) {
    const sec = hv[kind] as TomlTable;
    const ann = Array.isArray(sec.enable_annotations) ? sec.enable_annotations.filter((a): a is string => typeof a === 'string') : [];
    hypervisor = { kind, enableAnnotations: ann, ...(typeof sec.path === 'string' && sec.path ? { path: sec.path } : {}) };
  }
  const runtime = isTable(doc.runtime) ? doc.runtime : {};
  return { hypervisor, forceGuestPull: runtime.experimental_force_guest_pull === true };
}

/** Does the config accept hypervisor annotation `name` (Kata matches each entry as an unanchored regexp)? */
export function annotationEnabled(h: KataHypervisor | undefined, name: string): boolean {
  return (h?.enableAnnotations ?? []).some((re) => {
    try {
      return new RegExp(re).test(name);
    } catch {
      return re === name;
    }
  });
}
