/**
 * Load the network berth uses: the first config file in the conf dir (lexical order, like
 * libcni), validated, with every plugin binary found in the bin dirs and willing to speak the
 * list's cniVersion. The answer is a readiness verdict either way, so the CRI Status RPC can
 * say exactly why the network is not ready.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf, errnoCode } from '../../util/errors.js';
import { ConfigError, parseConfigFile, selectConfigFiles } from './config-parse.js';
import { LOOPBACK_TYPE, loopbackList, loopbackVersion } from './loopback.js';
import { findPlugin, type VersionProbe } from './plugins.js';
import { pickVersion } from './versions.js';
import type { NetworkConfigList } from './types.js';

export type NotReadyReason =
  | 'NoNetworkConfig'
  | 'InvalidNetworkConfig'
  | 'PluginNotFound'
  | 'PluginVersionMismatch'
  | 'PluginVersionCheckFailed';

export interface ConfigSummary {
  file: string;
  name: string;
  cniVersion: string;
  plugins: { type: string; path: string }[];
  loopback?: { cniVersion: string; path: string };
}

export interface CniStatus {
  ready: boolean;
  /** '' when ready, else a CamelCase reason (CRI RuntimeCondition.reason). */
  reason: NotReadyReason | '';
  message: string;
  config?: ConfigSummary;
}

export interface LoadedNetworks {
  status: CniStatus;
  main?: NetworkConfigList;
  loopback?: NetworkConfigList;
}

export interface LoadOptions {
  confDir: string;
  binDirs: string[];
  probe: VersionProbe;
  loopback: boolean;
}

const notReady = (reason: NotReadyReason, message: string): LoadedNetworks => ({ status: { ready: false, reason, message } });

async function configFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const e of entries) {
    if (e.isFile()) names.push(e.name);
    else if (e.isSymbolicLink()) {
      const st = await stat(join(dir, e.name)).catch(() => undefined);
      if (st?.isFile()) names.push(e.name);
    }
  }
  return selectConfigFiles(names);
}

async function resolvePlugins(list: NetworkConfigList, o: LoadOptions): Promise<{ paths: string[]; missing: string[] }> {
  const paths: string[] = [];
  const missing: string[] = [];
  for (const p of list.plugins) {
    const path = await findPlugin(p.type, o.binDirs);
    if (path) paths.push(path);
    else if (!missing.includes(p.type)) missing.push(p.type);
  }
  return { paths, missing };
}

/** One look at the conf dir and bin dirs. Never throws: problems become a not-ready status. */
export async function loadNetworks(o: LoadOptions): Promise<LoadedNetworks> {
  let files: string[];
  try {
    files = await configFiles(o.confDir);
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'does not exist' : `cannot be read: ${messageOf(err)}`;
    return notReady('NoNetworkConfig', `CNI config directory ${o.confDir} ${why}`);
  }
  if (files.length === 0) {
    return notReady('NoNetworkConfig', `no CNI network config in ${o.confDir} (looked for *.conflist, *.conf, *.json)`);
  }
  const file = join(o.confDir, files[0]!);
  let list;
  try {
    list = parseConfigFile(file, await readFile(file, 'utf8'));
  } catch (err) {
    return notReady('InvalidNetworkConfig', err instanceof ConfigError ? err.message : `CNI config ${file}: ${messageOf(err)}`);
  }
  const where = `CNI network ${list.name} (${file})`;
  const dirs = o.binDirs.join(':');
  const { paths, missing } = await resolvePlugins(list, o);
  const lbPath = o.loopback ? await findPlugin(LOOPBACK_TYPE, o.binDirs) : undefined;
  if (o.loopback && !lbPath) missing.push(`${LOOPBACK_TYPE} (for the pod's lo)`);
  if (missing.length > 0) {
    return notReady('PluginNotFound', `${where}: plugin binaries not found in ${dirs}: ${missing.join(', ')}`);
  }
  let support: string[][];
  let lbVersions: string[] = [];
  try {
    support = [];
    for (let i = 0; i < paths.length; i++) {
      support.push(await o.probe.supportedVersions(paths[i]!, list.plugins[i]!.type, list.cniVersion));
    }
    if (lbPath) lbVersions = await o.probe.supportedVersions(lbPath, LOOPBACK_TYPE, '0.3.1');
  } catch (err) {
    return notReady('PluginVersionCheckFailed', `${where}: ${messageOf(err)}`);
  }
  const version = pickVersion(list.candidateVersions, support);
  if (!version) {
    const bad = list.plugins
      .map((p, i) => ({ type: p.type, s: support[i]! }))
      .filter((x) => !list.candidateVersions.some((v) => x.s.includes(v)))
      .map((x) => `${x.type} supports ${x.s.join(', ') || 'nothing it would say'}`);
    return notReady(
      'PluginVersionMismatch',
      `${where}: cniVersion ${list.candidateVersions.join(' / ')} is not spoken by every plugin (${bad.join('; ') || 'no common version'})`,
    );
  }
  const main: NetworkConfigList = { name: list.name, cniVersion: version, disableCheck: list.disableCheck, plugins: list.plugins, source: file };
  const summary: ConfigSummary = {
    file,
    name: list.name,
    cniVersion: version,
    plugins: list.plugins.map((p, i) => ({ type: p.type, path: paths[i]! })),
  };
  let loopback: NetworkConfigList | undefined;
  if (lbPath) {
    const lv = loopbackVersion(lbVersions);
    if (!lv) return notReady('PluginVersionMismatch', `loopback plugin ${lbPath} supports only ${lbVersions.join(', ') || 'nothing it would say'}`);
    loopback = loopbackList(lv);
    summary.loopback = { cniVersion: lv, path: lbPath };
  }
  return {
    status: { ready: true, reason: '', message: `CNI network ${list.name} from ${file} (cniVersion ${version})`, config: summary },
    main,
    loopback,
  };
}
