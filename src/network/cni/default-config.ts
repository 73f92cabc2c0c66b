/**
 * The network berth installs when the conf dir has none: a bridge with host-local IPAM,
 * masquerading and hairpin, followed by portmap for hostPort mappings. Loopback is not in
 * the list: berth runs the loopback plugin on `lo` itself (see loopback.ts).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from '../../util/atomic.js';
import { isNotFoundErrno } from '../../util/errors.js';
import { selectConfigFiles } from './config-parse.js';

export interface DefaultConfigOptions {
  /** Network name; default "berth". */
  name?: string;
  /** Bridge device; default "berth0". */
  bridge?: string;
  /** IPv4 pod subnet; default 10.88.0.0/16. */
  subnet?: string;
  /** An optional IPv6 pod subnet for dual stack (adds a ::/0 route). */
  subnet6?: string;
  cniVersion?: string;
}

export const DEFAULT_CONFIG_FILE = '10-berth.conflist';

export function defaultConflist(o: DefaultConfigOptions = {}): Record<string, unknown> {
  const ranges: { subnet: string }[][] = [[{ subnet: o.subnet ?? '10.88.0.0/16' }]];
  const routes = [{ dst: '0.0.0.0/0' }];
  if (o.subnet6) {
    ranges.push([{ subnet: o.subnet6 }]);
    routes.push({ dst: '::/0' });
  }
  return {
    cniVersion: o.cniVersion ?? '1.0.0',
    name: o.name ?? 'berth',
    plugins: [
      {
        type: 'bridge',
        bridge: o.bridge ?? 'berth0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges, routes },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/**
 * Write the default conflist into `dir` unless it already holds a config file that libcni
 * would consider. Returns the path written, or undefined when the dir already had a config.
 */
export async function writeDefaultConfigIfEmpty(dir: string, o: DefaultConfigOptions = {}): Promise<string | undefined> {
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (!isNotFoundErrno(err)) throw err;
  }
  if (selectConfigFiles(names).length > 0) return undefined;
  const path = join(dir, DEFAULT_CONFIG_FILE);
  await writeJsonAtomic(path, defaultConflist(o), 0o644);
  return path;
}
