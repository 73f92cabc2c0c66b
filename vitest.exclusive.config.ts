/**
 * The test files that measure CPU shares on the real kernel (QoS suppression): run after the
 * main suite, one file at a time, so no other test file competes for the two cores.
 */
import { defineConfig } from 'vitest/config';
import base, { EXCLUSIVE } from './vitest.config.js';

export default defineConfig({
  test: { ...base.test, include: EXCLUSIVE.map((g) => `${g}/*.test.ts`), exclude: ['node_modules/**', 'dist/**'], maxWorkers: 1, fileParallelism: false },
});
