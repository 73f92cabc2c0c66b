/**
 * What ADD was run with, per pod and network, in `<cacheDir>/<network>-<podId>-<ifname>.json`
 * (the naming libcni uses): the exact config list, CNI_ARGS, capability arguments (port
 * mappings …) and the result. DEL and CHECK read it back, so a teardown after a berthd
 * restart or a config change removes exactly what ADD created. The entry is written before
 * ADD runs (state "adding") so a crash in the middle still leaves something to tear down.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../util/atomic.js';
import { errnoCode, isNotFoundErrno } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import type { CapabilityArgs, NetworkConfigList } from './types.js';

const log = logger('cni');
const KIND = 'berth-cni-cache-v1';

export interface CacheEntry {
  kind: typeof KIND;
  containerId: string;
  ifName: string;
  networkName: string;
  role: 'main' | 'loopback';
  config: NetworkConfigList;
  cniArgs: string;
  capabilityArgs: CapabilityArgs;
  netnsPath: string;
  state: 'adding' | 'added';
  /** The final ADD result, as the last plugin printed it. */
  result?: Record<string, unknown>;
  createdAt: string;
  /** Failed teardown attempts so far, and the last error. */
  delFailures?: number;
  lastDelError?: string;
}

export type NewCacheEntry = Omit<CacheEntry, 'kind' | 'createdAt' | 'state'>;

export class ResultCache {
  constructor(readonly dir: string) {}

  pathOf(e: Pick<CacheEntry, 'networkName' | 'containerId' | 'ifName'>): string {
    return join(this.dir, `${e.networkName}-${e.containerId}-${e.ifName}.json`);
  }

  async write(e: CacheEntry): Promise<void> {
    await writeJsonAtomic(this.pathOf(e), e, 0o600);
  }

  fresh(e: NewCacheEntry): CacheEntry {
    return { kind: KIND, ...e, state: 'adding', createdAt: new Date().toISOString() };
  }

  async remove(e: CacheEntry): Promise<void> {
    await rm(this.pathOf(e), { force: true });
  }

  private async names(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    } catch (err) {
      if (isNotFoundErrno(err)) return [];
      throw err;
    }
  }

  private async load(name: string): Promise<CacheEntry | undefined> {
    const path = join(this.dir, name);
    try {
      const e = JSON.parse(await readFile(path, 'utf8')) as CacheEntry;
      if (e.kind !== KIND || typeof e.containerId !== 'string' || !e.config) {
        log.warn({ path }, 'ignoring a CNI cache file that is not ours');
        return undefined;
      }
      return e;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') log.warn({ path, err }, 'ignoring an unreadable CNI cache file');
      return undefined;
    }
  }

  /** The pod's entries in teardown order: its own network(s) first, loopback last. */
  async forPod(containerId: string): Promise<CacheEntry[]> {
    const out: CacheEntry[] = [];
    for (const n of await this.names()) {
      if (!n.includes(`-${containerId}-`)) continue;
      const e = await this.load(n);
      if (e && e.containerId === containerId) out.push(e);
    }
    return out.sort((a, b) => (a.role === b.role ? a.networkName.localeCompare(b.networkName) : a.role === 'loopback' ? 1 : -1));
  }

  /** Every pod id with a cache entry: pods whose network may still need a teardown. */
  async pods(): Promise<string[]> {
    const ids = new Set<string>();
    for (const n of await this.names()) {
      const e = await this.load(n);
      if (e) ids.add(e.containerId);
    }
    return [...ids].sort();
  }
}
