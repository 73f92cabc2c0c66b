/**
 * Integration tests run the built daemon (dist/). Rebuild when any source file is newer
 * than the build, so a stale dist never gets tested.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts') || e.name.endsWith('.proto')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  const entry = join(repo, 'dist/src/daemon/main.js');
  const srcNewest = Math.max(newestMtime(join(repo, 'src')), newestMtime(join(repo, 'proto')));
  if (existsSync(entry) && statSync(entry).mtimeMs >= srcNewest && process.env.BERTH_TEST_REBUILD !== '1') return;
  // Emit even with type errors elsewhere (tsc still emits); `npm run build` / CI type-check strictly.
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'pipe' });
  } catch (err) {
    const out = String((err as { stdout?: Buffer }).stdout ?? '');
    process.stderr.write(`global-setup: tsc reported type errors (build emitted anyway):\n${out.slice(0, 4000)}\n`);
  }
  execFileSync('node', ['scripts/postbuild.mjs'], { cwd: repo, stdio: 'inherit' });
}
