/**
 * Test side of the RECORDING SHIM (a mock shim, see recording-shim.ts): transpile it next to
 * the built daemon (dist/test/helpers/recording-shim.js, so its imports of dist/src resolve),
 * give it a private records directory and an executable wrapper to name as a handler's
 * `shim`, read what it recorded, and kill every server it left behind.
 *
 *   const shim = await installRecordingShim();
 *   startPodEnv({ config: { runtimes: { handlers: { k: { type: 'kata', shim: shim.binary, … } } } } });
 *   const creates = (await shim.records()).filter((r) => r.method === 'Create');
 *   await shim.cleanup();
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { REPO } from './berthd.js';

export interface ShimRecord {
  at: number;
  pid: number;
  kind: 'start' | 'delete' | 'serve' | 'rpc';
  method?: string;
  group?: string;
  flags?: Record<string, string>;
  cwd?: string;
  options?: Record<string, unknown>;
  reused?: boolean;
  socket?: string;
  request?: Record<string, unknown>;
  spec?: { annotations?: Record<string, string>; process?: { user?: { uid: number; gid: number }; env?: string[]; args?: string[] }; linux?: Record<string, unknown> } & Record<string, unknown>;
}

export interface RecordingShim {
  /** Executable to name as a handler's `shim`. */
  binary: string;
  dir: string;
  records(): Promise<ShimRecord[]>;
  cleanup(): Promise<void>;
}

const SOURCE = join(REPO, 'test/helpers/recording-shim.ts');
const OUTPUT = join(REPO, 'dist/test/helpers/recording-shim.js');

async function transpile(): Promise<void> {
  const src = await readFile(SOURCE, 'utf8');
  const out = ts.transpileModule(src, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    fileName: SOURCE,
  });
  await mkdir(dirname(OUTPUT), { recursive: true });
  // Test files may run this concurrently: write aside, then rename into place.
  const tmp = `${OUTPUT}.${process.pid}.tmp`;
  await writeFile(tmp, out.outputText);
  await rename(tmp, OUTPUT);
}

export async function installRecordingShim(): Promise<RecordingShim> {
  await transpile();
  const dir = await mkdtemp(join(tmpdir(), 'berth-rshim-'));
  const binary = join(dir, 'containerd-shim-recording-v2');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await writeFile(binary, `#!/bin/sh\nRECORDING_SHIM_DIR=${q(dir)} exec ${q(process.execPath)} ${q(OUTPUT)} "$@"\n`);
  await chmod(binary, 0o755);
  const records = async (): Promise<ShimRecord[]> => {
    const text = await readFile(join(dir, 'records.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ShimRecord);
  };
  return {
    binary,
    dir,
    records,
    async cleanup() {
      for (const r of await records()) {
        if (r.kind !== 'serve') continue;
        try {
          process.kill(r.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The Create records for one task id (sandbox or container). */
export function createsOf(records: ShimRecord[], id: string): ShimRecord[] {
  return records.filter((r) => r.method === 'Create' && r.request?.id === id);
}
