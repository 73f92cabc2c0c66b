/**
 * DEL for the cached entries of one pod: the pod's namespace if it still exists, else a
 * stand-in (see netns-standin.ts) or none. Entries whose DEL succeeded are removed from the
 * cache; failed ones stay (with a failure count) so calling teardown again retries them.
 */
import { join } from 'node:path';
import { BerthError, Code, messageOf } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import { removeNetns } from '../netns.js';
import type { CacheEntry, ResultCache } from './cache.js';
import { delList, type PluginTiming } from './list-ops.js';
import { createStandIn, isLiveNetns, sandboxAddresses } from './netns-standin.js';
import type { CniPluginError } from './plugin-error.js';

const log = logger('cni');

export interface TeardownDeps {
  cache: ResultCache;
  binDirs: string[];
  timeoutMs: number;
  standIn: boolean;
}

/** Some DEL failed; the cache entries are kept, so teardown can simply be called again. */
export class CniTeardownError extends BerthError {
  constructor(
    readonly podId: string,
    readonly failures: CniPluginError[],
    readonly attempts: number,
  ) {
    super(
      failures[0]?.code ?? Code.INTERNAL,
      `tearing down the network of pod ${podId} failed (attempt ${attempts}): ${failures.map((f) => f.message).join('; ')}; ` +
        'the CNI cache is kept, so tearing down again retries',
    );
  }
}

async function namespaceFor(entry: CacheEntry, requested: string | undefined, d: TeardownDeps, standIns: string[]): Promise<string> {
  for (const p of [requested, entry.netnsPath]) if (await isLiveNetns(p)) return p!;
  if (!d.standIn || entry.role !== 'main') return '';
  const addrs = sandboxAddresses(entry.result, entry.ifName, entry.config.cniVersion);
  if (addrs.length === 0) return '';
  const path = join(d.cache.dir, 'standin', `${entry.containerId}-${entry.ifName}`);
  try {
    await createStandIn(path, entry.ifName, addrs);
    standIns.push(path);
    return path;
  } catch (err) {
    log.warn({ pod: entry.containerId, err: messageOf(err) }, 'no stand-in namespace for CNI DEL; running DEL without one');
    return '';
  }
}

export interface EntriesTeardown {
  failures: CniPluginError[];
  attempts: number;
  usedStandIn: boolean;
}

export async function teardownEntries(
  entries: CacheEntry[],
  requestedNetns: string | undefined,
  force: boolean,
  d: TeardownDeps,
  timings: PluginTiming[],
): Promise<EntriesTeardown> {
  const failures: CniPluginError[] = [];
  const standIns: string[] = [];
  let attempts = 0;
  try {
    for (const entry of entries) {
      const netns = await namespaceFor(entry, requestedNetns, d, standIns);
      const errs = await delList(
        {
          list: entry.config,
          containerId: entry.containerId,
          netns,
          ifName: entry.ifName,
          cniArgs: entry.cniArgs,
          caps: entry.capabilityArgs,
          binDirs: d.binDirs,
          timeoutMs: d.timeoutMs,
        },
        entry.result,
        timings,
      );
      if (errs.length === 0 || force) {
        if (errs.length) log.warn({ pod: entry.containerId, network: entry.networkName, errors: errs.map((e) => e.message) }, 'CNI DEL failed; forgetting the network anyway (force)');
        await d.cache.remove(entry);
      } else {
        const failed: CacheEntry = { ...entry, delFailures: (entry.delFailures ?? 0) + 1, lastDelError: errs.map((e) => e.message).join('; ') };
        attempts = Math.max(attempts, failed.delFailures!);
        await d.cache.write(failed);
      }
      failures.push(...errs);
    }
  } finally {
    for (const p of standIns) await removeNetns(p).catch((err) => log.warn({ path: p, err: messageOf(err) }, 'removing the stand-in namespace failed'));
  }
  return { failures, attempts, usedStandIn: standIns.length > 0 };
}
