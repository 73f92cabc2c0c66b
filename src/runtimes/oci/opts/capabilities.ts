import type { Capability } from '../../../gen/runtime/v1/api.js';
import { failedPrecondition, invalidArgument } from '../../../util/errors.js';
import { DEFAULT_CAPABILITIES, KNOWN_CAPABILITIES } from '../defaults.js';
import { ensureCapabilities, type SpecOpt } from '../spec-opt.js';
import type { LinuxCapabilities } from '../spec-types.js';

/** "net_admin", "NET_ADMIN" or "CAP_NET_ADMIN" → "CAP_NET_ADMIN"; unknown names are refused. */
export function normalizeCapability(name: string): string {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!KNOWN_CAPABILITIES.includes(full)) throw invalidArgument(`unknown capability ${JSON.stringify(name)}`);
  return full;
}

function setAll(caps: LinuxCapabilities, list: readonly string[]): void {
  caps.bounding = [...list];
  caps.effective = [...list];
  caps.permitted = [...list];
  caps.inheritable = list.length === 0 ? [] : (caps.inheritable ?? []).filter((c) => list.includes(c));
}

/** Bounding, effective and permitted = `list`; no inheritable or ambient capabilities. */
export function withCapabilitySet(list: readonly string[]): SpecOpt {
  return (spec) => {
    const caps = ensureCapabilities(spec);
    setAll(caps, list);
    delete caps.inheritable;
    delete caps.ambient;
  };
}

export const withDefaultCapabilities: SpecOpt = withCapabilitySet(DEFAULT_CAPABILITIES);

const isAll = (c: string): boolean => c.trim().toUpperCase() === 'ALL';

/**
 * Apply a security context's add/drop lists. "ALL" in add_capabilities starts from every
 * capability berthd holds, "ALL" in drop_capabilities from none; the named ones are then
 * added / dropped, so add [ALL] + drop [CHOWN] is everything but CAP_CHOWN. Names may carry
 * the CAP_ prefix or not. Adding a capability berthd itself lacks fails up front, since
 * the runtime could not grant it. Ambient capabilities are always cleared (as containerd).
 */
export function withCapabilityChanges(changes: Capability | undefined, hostCaps: readonly string[]): SpecOpt {
  return (spec) => {
    const caps = ensureCapabilities(spec);
    delete caps.ambient;
    if (!changes) return;
    const add = changes.addCapabilities;
    const drop = changes.dropCapabilities;
    if (add.some(isAll)) setAll(caps, hostCaps);
    if (drop.some(isAll)) setAll(caps, []);
    for (const raw of add.filter((c) => !isAll(c))) {
      const c = normalizeCapability(raw);
      if (!hostCaps.includes(c)) {
        throw failedPrecondition(`capability ${c} cannot be added: berthd does not hold it on this node`);
      }
      for (const key of ['bounding', 'effective', 'permitted'] as const) {
        const list = (caps[key] ??= []);
        if (!list.includes(c)) list.push(c);
      }
    }
    for (const raw of drop.filter((c) => !isAll(c))) {
      const c = normalizeCapability(raw);
      for (const key of ['bounding', 'effective', 'permitted', 'inheritable'] as const) {
        if (caps[key]) caps[key] = caps[key]!.filter((x) => x !== c);
      }
    }
  };
}
