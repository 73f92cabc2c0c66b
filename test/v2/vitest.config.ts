/**
 * vitest configuration for `npm run test:v2`: the suites that run inside the cgroup v2 VM
 * (scripts/v2/test-v2.sh boots it; scripts/v2/guest.sh runs `vitest run --config` this file).
 * The main configuration excludes test/v2/**; these suites are chosen here.
 *
 * Under software emulation every process start costs ~90x and every module load ~20x, so the
 * files run one at a time in one worker, and the transformed modules come from a file cache
 * that the host fills before boot (`vitest list` with this config) in the shared run directory.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Where transformed modules are cached: the harness points this into its run directory
 * (shared with the VM at the same path), so concurrent runs do not share a cache. */
const moduleCache = process.env.BERTH_V2_MODULE_CACHE ?? 'node_modules/.berth-v2-vitest-cache';

/**
 * What runs in the VM. A suite belongs here when it branches on the detected cgroup mode (or
 * is v2-only) and tolerates emulation: waits of minutes, not seconds, for daemons to start.
 * test/integration/qos/*.test.ts are not listed yet: they assert v1 files, start berthd
 * through test/helpers/berthd.ts (20 s start limit; berthd needs 15-30 s here) and run CNI pods.
 * Their executor and engine cases have real-kernel twins in test/v2/qos-v2.test.ts.
 */
export const V2_SUITES = [
  // cgroups library on the real kernel: detection, every knob written and read back, stats
  'test/integration/cgroups/*.test.ts',
  // v2 twins of the fake-tree tests (cgroups, QoS executor and engine), one real pod's limits
  'test/v2/*.test.ts',
];

export default defineConfig({
  test: {
    root,
    include: V2_SUITES,
    pool: 'forks',
    maxWorkers: 1,
    isolate: true,
    testTimeout: 300_000,
    hookTimeout: 400_000,
    teardownTimeout: 120_000,
    reporters: ['default'],
    experimental: { fsModuleCache: true, fsModuleCachePath: moduleCache },
  },
});
