import { defineConfig } from 'vitest/config';

// Integration tests use real binaries, real cgroups and real sockets: they need root and
// the Debian packages the README installs. Files run in separate processes, at most two
// at once (this is a 2-core machine and every file may start its own berthd).
// The QoS CPU-suppression tests measure how much CPU a pod gets, so they run afterwards on
// their own (vitest.exclusive.config.ts), not beside other busy test files.
export const EXCLUSIVE = ['test/integration/qos'];
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    exclude: ['test/v2/**', 'node_modules/**', 'dist/**', ...EXCLUSIVE.map((g) => `${g}/**`)],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    reporters: ['default'],
  },
});
