/**
 * Shared setup for the real-kernel cgroup tests: one detected manager, a test-only parent
 * cgroup "/berth-test-<random>" and cleanup of it and of every spawned process, even when a
 * test fails. These tests run unchanged on cgroup v1, hybrid and v2 hosts: they branch on the
 * detected mode instead of skipping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupManager } from '../../../src/cgroups/index.js';
import { allRoots } from '../../../src/cgroups/lifecycle.js';
import { setLogLevel } from '../../../src/util/log.js';

setLogLevel('warn');

export interface TestBed {
  cg: CgroupManager;
  parent: string;
  /** Spawn a process that the cleanup kills. */
  spawn(cmd: string, args: string[]): ChildProcess;
  /** A busybox shell that waits for a line on stdin, then runs `script`: attach it first, then start it. */
  gated(script: string): { p: ChildProcess; go: () => void };
  /** Wait for a spawned process to exit: its code and signal. */
  exited(p: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Every directory of a cgroup path across the hierarchies (to check removal). */
  dirsOf(path: string): string[];
  cleanup(): Promise<void>;
}

export function testBed(): TestBed {
  const cg = CgroupManager.detect();
  const parent = `/berth-test-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  return {
    cg,
    parent,
    spawn(cmd, args) {
      const p = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] });
      children.push(p);
      return p;
    },
    gated(script) {
      const p = this.spawn('busybox', ['sh', '-c', `read go; ${script}`]);
      return { p, go: () => void p.stdin!.write('go\n') };
    },
    async exited(p) {
      if (p.exitCode !== null || p.signalCode !== null) return { code: p.exitCode, signal: p.signalCode };
      const [code, signal] = (await once(p, 'exit')) as [number | null, NodeJS.Signals | null];
      return { code, signal };
    },
    dirsOf(path) {
      return allRoots(cg.system).map((r) => join(r, path));
    },
    async cleanup() {
      for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      await cg.destroy(parent, { timeoutMs: 10_000 });
      const left = allRoots(cg.system).map((r) => join(r, parent)).filter((d) => existsSync(d));
      if (left.length > 0) throw new Error(`cleanup left cgroups behind: ${left.join(', ')}`);
    },
  };
}

/** Poll `cond` every few milliseconds until it holds (the test's own timeout bounds it). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}
