// Make the bin entry points executable after tsc (tsc keeps the shebang but not the mode).
import { chmodSync, existsSync } from 'node:fs';
for (const f of ['dist/src/daemon/main.js', 'dist/src/cli/main.js']) {
  if (existsSync(f)) chmodSync(f, 0o755);
}
