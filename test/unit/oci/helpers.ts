import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import { BerthError, Code } from '../../../src/util/errors.js';
import type { HostFacts, HostProbes } from '../../../src/runtimes/oci/inputs.js';
import type { OptContext } from '../../../src/runtimes/oci/spec-opt.js';
import type { LinuxDevice, Spec } from '../../../src/runtimes/oci/spec-types.js';
import { DEFAULT_CAPABILITIES, KNOWN_CAPABILITIES } from '../../../src/runtimes/oci/defaults.js';

export const silentLog = pino({ level: 'silent' });

/** Host facts of a typical node: no AppArmor, cgroup v1 with swap accounting, root lacking CAP_SYS_RESOURCE. */
export function hostFacts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    apparmorEnabled: false,
    recursiveReadOnlyMounts: false,
    oomScoreAdj: 0,
    capabilities: KNOWN_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE'),
    cgroupV2: false,
    swapAccounting: true,
    hugetlb: false,
    hostname: 'node-1',
    arch: 'x64',
    ...over,
  };
}

export interface FakeProbes extends HostProbes {
  files: Map<string, string>;
  devices: Map<string, LinuxDevice[]>;
  propagation: Map<string, 'shared' | 'slave' | 'private'>;
  prepared: string[];
}

/** Probes backed by maps: devices by host path, propagation by path, files by path. */
export function fakeProbes(): FakeProbes {
  const p: FakeProbes = {
    files: new Map(),
    devices: new Map(),
    propagation: new Map(),
    prepared: [],
    async lookupDevices(hostPath, containerPath) {
      const devs = p.devices.get(hostPath);
      if (!devs) throw Object.assign(new Error(`ENOENT: ${hostPath}`), { code: 'ENOENT' });
      return devs.map((d) => ({ ...d, path: containerPath || d.path }));
    },
    async hostDevices() {
      return [...p.devices.values()].flat();
    },
    async mountPropagation(path) {
      return p.propagation.get(path) ?? 'private';
    },
    async prepareMountSource(hostPath) {
      p.prepared.push(hostPath);
      return hostPath;
    },
    async readFile(path) {
      const f = p.files.get(path);
      if (f === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return f;
    },
  };
  return p;
}

export function ctxWith(probes: HostProbes = fakeProbes()): OptContext {
  return { probes, log: silentLog };
}

export function blankSpec(): Spec {
  return { ociVersion: '1.1.0', process: { user: { uid: 0, gid: 0 }, cwd: '/' }, linux: {} };
}

export { DEFAULT_CAPABILITIES };

/** Expect `fn` to throw (or reject with) a BerthError of `code` whose message matches `re`. */
export async function expectBerthError(fn: () => unknown, code: Code, re?: RegExp): Promise<BerthError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected an error').toBeInstanceOf(BerthError);
  const be = caught as BerthError;
  expect(Code[be.code]).toBe(Code[code]);
  if (re) expect(be.message).toMatch(re);
  return be;
}

/** A temp rootfs with the given files (path → content); returns its path and a cleanup. */
export async function tempRootfs(files: Record<string, string>): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'berth-oci-rootfs-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, content);
  }
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}
