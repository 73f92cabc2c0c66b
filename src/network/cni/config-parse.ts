/**
 * Parse and validate one CNI configuration file's text (pure). A `.conflist` holds a list
 * (`plugins`), a `.conf` holds one plugin and is wrapped into a list of one, a `.json` may be
 * either. Every error names the file and the field.
 */
import { isSupportedVersion, SUPPORTED_CNI_VERSIONS, compareVersions } from './versions.js';
import type { NetworkConfigList, PluginConf } from './types.js';

/** Network names and plugin types (a type is a file name in a bin dir, so no slashes). */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`CNI config ${file}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface ParsedConfigList extends NetworkConfigList {
  /** Versions the file allows (its `cniVersion`, or a 1.1 `cniVersions` list) that berth supports, highest first. */
  candidateVersions: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkPlugin(file: string, raw: unknown, where: string): PluginConf {
  if (!isObject(raw)) throw new ConfigError(file, `${where} must be a JSON object`);
  const type = raw.type;
  if (typeof type !== 'string' || type === '') throw new ConfigError(file, `${where} has no "type"`);
  if (!NAME_RE.test(type)) throw new ConfigError(file, `${where} has an invalid "type" ${JSON.stringify(type)}`);
  const caps = raw.capabilities;
  if (caps !== undefined) {
    if (!isObject(caps) || !Object.values(caps).every((v) => typeof v === 'boolean')) {
      throw new ConfigError(file, `${where} (type ${type}): "capabilities" must map names to true/false`);
    }
  }
  return raw as PluginConf;
}

function readVersions(file: string, doc: Record<string, unknown>): string[] {
  const declared: unknown[] = [];
  if (Array.isArray(doc.cniVersions)) declared.push(...doc.cniVersions);
  if (doc.cniVersion !== undefined) declared.push(doc.cniVersion);
  if (declared.length === 0) throw new ConfigError(file, 'has no "cniVersion"');
  if (!declared.every((v) => typeof v === 'string')) throw new ConfigError(file, '"cniVersion" must be a string');
  const ok = (declared as string[]).filter(isSupportedVersion);
  if (ok.length === 0) {
    throw new ConfigError(
      file,
      `cniVersion ${(declared as string[]).join(', ')} is not supported (supported: ${SUPPORTED_CNI_VERSIONS.join(', ')})`,
    );
  }
  return [...new Set(ok)].sort(compareVersions).reverse();
}

function readName(file: string, doc: Record<string, unknown>): string {
  const name = doc.name;
  if (typeof name !== 'string' || name === '') throw new ConfigError(file, 'has no network "name"');
  if (!NAME_RE.test(name)) {
    throw new ConfigError(file, `network name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, "_", "." and "-"`);
  }
  return name;
}

/** Parse the text of `file`; the extension decides whether a list, a single plugin or either is expected. */
export function parseConfigFile(file: string, text: string): ParsedConfigList {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, `is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new ConfigError(file, 'must hold a JSON object');
  const isList = file.endsWith('.conflist') || (file.endsWith('.json') && doc.plugins !== undefined);
  const candidateVersions = readVersions(file, doc);
  const name = readName(file, doc);
  let plugins: PluginConf[];
  if (isList) {
    if (!Array.isArray(doc.plugins) || doc.plugins.length === 0) {
      throw new ConfigError(file, 'has no "plugins" (a .conflist needs a non-empty list)');
    }
    plugins = doc.plugins.map((p, i) => checkPlugin(file, p, `plugins[${i}]`));
  } else {
    if (doc.plugins !== undefined) throw new ConfigError(file, 'holds a "plugins" list: name it .conflist');
    const { cniVersion: _v, cniVersions: _vs, name: _n, ...plugin } = doc;
    plugins = [checkPlugin(file, plugin, 'the plugin')];
  }
  if (doc.disableCheck !== undefined && typeof doc.disableCheck !== 'boolean') {
    throw new ConfigError(file, '"disableCheck" must be true or false');
  }
  return {
    name,
    cniVersion: candidateVersions[0]!,
    candidateVersions,
    disableCheck: doc.disableCheck === true,
    plugins,
    source: file,
  };
}

/** The config file names libcni would consider, in the order it would pick them. */
export function selectConfigFiles(names: string[]): string[] {
  return names.filter((n) => /\.(conflist|conf|json)$/.test(n)).sort();
}
