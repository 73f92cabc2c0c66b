/**
 * Plugin binaries: find a plugin type in the bin dirs (first dir wins, like CNI_PATH), and
 * ask it which spec versions it speaks (CNI_COMMAND=VERSION), remembered per binary
 * (path + size + mtime) so a reload costs a stat, not an exec.
 */
import { access, constants, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execPlugin } from './exec-plugin.js';
import { buildEnv } from './invocation.js';

/** The path of an executable regular file named `type` in the first bin dir that has one. */
export async function findPlugin(type: string, binDirs: string[]): Promise<string | undefined> {
  for (const dir of binDirs) {
    const p = join(dir, type);
    try {
      const st = await stat(p);
      if (!st.isFile()) continue;
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface Probe {
  key: string;
  versions: string[];
}

export class VersionProbe {
  private readonly cache = new Map<string, Probe>();

  constructor(
    private readonly binDirs: string[],
    private readonly timeoutMs: number,
  ) {}

  /** The plugin's supportedVersions. Throws a CniPluginError when VERSION fails. */
  async supportedVersions(path: string, type: string, askVersion: string): Promise<string[]> {
    const st = await stat(path);
    const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
    const hit = this.cache.get(path);
    if (hit && hit.key === key) return hit.versions;
    const env = buildEnv(process.env, {
      command: 'VERSION',
      containerId: '',
      netns: '',
      ifName: '',
      cniArgs: '',
      binDirs: this.binDirs,
    });
    const ctx = { plugin: type, command: 'VERSION' as const, network: '-', containerId: '-' };
    const out = await execPlugin({
      binary: path,
      env,
      stdin: JSON.stringify({ cniVersion: askVersion }),
      timeoutMs: Math.min(this.timeoutMs, 10_000),
      ctx,
    });
    let versions: string[] = [];
    try {
      const doc = JSON.parse(out.stdout) as { supportedVersions?: unknown };
      if (Array.isArray(doc.supportedVersions)) versions = doc.supportedVersions.filter((v): v is string => typeof v === 'string');
    } catch {
      versions = [];
    }
    this.cache.set(path, { key, versions });
    return versions;
  }
}
