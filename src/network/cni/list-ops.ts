/**
 * ADD, DEL and CHECK over a network configuration list, per the CNI spec: ADD runs the
 * plugins in order, each getting the previous plugin's result as prevResult; DEL runs them in
 * reverse with the cached ADD result (0.4.0+); CHECK runs them in order with it.
 *
 * Unlike libcni, DEL does not stop at the first failing plugin: the rest still run (so an
 * IPAM lease is released even when a port-mapping plugin fails) and every failure is
 * returned. DEL is idempotent per the spec, so a retry simply runs the whole list again.
 */
import { Code } from '../../util/errors.js';
import { logger } from '../../util/log.js';
import { execPlugin } from './exec-plugin.js';
import { buildEnv, buildPluginStdin } from './invocation.js';
import { CniPluginError, type PluginContext } from './plugin-error.js';
import { findPlugin } from './plugins.js';
import { parseResult } from './result.js';
import { delGetsPrevResult } from './versions.js';
import type { CapabilityArgs, CniCommand, NetworkConfigList, PluginConf } from './types.js';

const log = logger('cni');

export interface ListRun {
  list: NetworkConfigList;
  containerId: string;
  /** '' when there is no namespace to give (DEL after it is gone). */
  netns: string;
  ifName: string;
  cniArgs: string;
  caps: CapabilityArgs;
  binDirs: string[];
  timeoutMs: number;
}

export interface PluginTiming {
  plugin: string;
  command: CniCommand;
  ms: number;
}

async function runPlugin(
  r: ListRun,
  plugin: PluginConf,
  command: CniCommand,
  prevResult: Record<string, unknown> | undefined,
  timings: PluginTiming[],
): Promise<string> {
  const ctx: PluginContext = { plugin: plugin.type, command, network: r.list.name, containerId: r.containerId };
  const binary = await findPlugin(plugin.type, r.binDirs);
  if (!binary) {
    throw new CniPluginError(ctx, { msg: `plugin binary not found in ${r.binDirs.join(':')}` }, Code.FAILED_PRECONDITION);
  }
  const env = buildEnv(process.env, {
    command,
    containerId: r.containerId,
    netns: r.netns,
    ifName: r.ifName,
    cniArgs: r.cniArgs,
    binDirs: r.binDirs,
  });
  const stdin = JSON.stringify(buildPluginStdin(r.list, plugin, r.caps, prevResult));
  const out = await execPlugin({ binary, env, stdin, timeoutMs: r.timeoutMs, ctx });
  timings.push({ plugin: plugin.type, command, ms: out.ms });
  log.debug({ pod: r.containerId, network: r.list.name, plugin: plugin.type, command, ms: Math.round(out.ms) }, 'CNI plugin done');
  return out.stdout;
}

/** ADD: returns the last plugin's result (raw JSON object). */
export async function addList(r: ListRun, timings: PluginTiming[] = []): Promise<Record<string, unknown>> {
  let prev: Record<string, unknown> | undefined;
  for (const plugin of r.list.plugins) {
    const stdout = await runPlugin(r, plugin, 'ADD', prev, timings);
    const ctx = { plugin: plugin.type, command: 'ADD' as const, network: r.list.name, containerId: r.containerId };
    let raw: unknown;
    try {
      raw = JSON.parse(stdout);
      parseResult(raw, r.list.cniVersion);
    } catch (err) {
      const shown = stdout.trim().slice(0, 300) || '(nothing)';
      throw new CniPluginError(ctx, { msg: `printed an unreadable result (${(err as Error).message}): ${shown}` });
    }
    prev = raw as Record<string, unknown>;
  }
  return prev!;
}

/** DEL in reverse order; every plugin runs, failures are collected and returned. */
export async function delList(
  r: ListRun,
  cachedResult: Record<string, unknown> | undefined,
  timings: PluginTiming[] = [],
): Promise<CniPluginError[]> {
  const prev = delGetsPrevResult(r.list.cniVersion) ? cachedResult : undefined;
  const errors: CniPluginError[] = [];
  for (const plugin of [...r.list.plugins].reverse()) {
    try {
      await runPlugin(r, plugin, 'DEL', prev, timings);
    } catch (err) {
      if (!(err instanceof CniPluginError)) throw err;
      errors.push(err);
    }
  }
  return errors;
}

/** CHECK in order with the cached result; the first failure is thrown. */
export async function checkList(r: ListRun, cachedResult: Record<string, unknown>, timings: PluginTiming[] = []): Promise<void> {
  for (const plugin of r.list.plugins) {
    await runPlugin(r, plugin, 'CHECK', cachedResult, timings);
  }
}
