/** The policy schema (defaults, ranges, key paths) and the store (hot reload, rejection, apply). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePolicyText } from '../../../src/qos/policy/parse.js';
import { DEFAULT_POLICY } from '../../../src/qos/policy/schema.js';
import { PolicyStore } from '../../../src/qos/policy/store.js';
import { logger, setLogLevel } from '../../../src/util/log.js';

setLogLevel('silent');
const log = logger('test');
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('policy schema', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_POLICY).toMatchObject({
      enabled: true,
      cpuSuppressPolicy: 'cpuset',
      cpuSuppressThresholdPercent: 65,
      cpuSuppressMinCores: 0.5,
      lsPressureTargetPercent: 20,
      memoryEvictThresholdPercent: 70,
      cpuBurstPercent: 1000,
      defaultClass: { kubeletBestEffort: 'BE', other: 'LS' },
    });
  });

  it('rejects out-of-range values and unknown keys, naming every key path', () => {
    const bad = 'cpuSuppressThresholdPercent: 0\ncpuSuppressPolicy: freeze\npsiFeedback: { minFactor: 3 }\nbe: { oomScoreAdj: 2000, colour: red }\nnope: 1\n';
    expect(() => parsePolicyText(bad, 'p.yaml')).toThrow(/invalid QoS policy in p\.yaml/);
    try {
      parsePolicyText(bad, 'p.yaml');
    } catch (e) {
      const m = (e as Error).message;
      for (const key of ['cpuSuppressThresholdPercent', 'cpuSuppressPolicy', 'psiFeedback.minFactor', 'be.oomScoreAdj', 'be: unknown key(s) "colour"', '(top level): unknown key(s) "nope"']) expect(m).toContain(key);
    }
    expect(() => parsePolicyText('[1, 2]', 'x')).toThrow(/top level must be a mapping/);
    expect(() => parsePolicyText('a: [', 'x')).toThrow(/not YAML or JSON/);
    expect(parsePolicyText('', 'empty')).toEqual(DEFAULT_POLICY);
    expect(parsePolicyText('{"cpuSuppressMinCores": 1.5}', 'json').cpuSuppressMinCores).toBe(1.5);
  });
});

describe('policy store', () => {
  const file = () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-qos-policy-'));
    return join(dir, 'policy.yaml');
  };
  const touch = (path: string, text: string, secondsAhead: number) => {
    writeFileSync(path, text);
    const t = Date.now() / 1000 + secondsAhead;
    utimesSync(path, t, t);
  };

  it('uses the defaults without a file, and loads one that appears later', () => {
    const path = file();
    const s = new PolicyStore(path, log);
    expect(s.refresh()).toBe(false);
    expect(s.status().source).toBe('embedded defaults');
    touch(path, 'cpuSuppressThresholdPercent: 50\n', 1);
    expect(s.refresh()).toBe(true);
    expect(s.current.cpuSuppressThresholdPercent).toBe(50);
    expect(s.refresh()).toBe(false); // unchanged: not re-read
  });

  it('keeps the previous policy when an edit is invalid, and recovers on the next good edit', () => {
    const path = file();
    touch(path, 'cpuSuppressMinCores: 1\n', 1);
    const s = new PolicyStore(path, log);
    s.refresh();
    touch(path, 'cpuSuppressMinCores: -1\n', 2);
    expect(s.refresh()).toBe(false);
    expect(s.current.cpuSuppressMinCores).toBe(1);
    expect(s.status().lastError?.message).toMatch(/cpuSuppressMinCores/);
    touch(path, 'cpuSuppressMinCores: 2\n', 3);
    expect(s.refresh()).toBe(true);
    expect(s.current.cpuSuppressMinCores).toBe(2);
    expect(s.status().lastError).toBeUndefined();
  });

  it('applies YAML text or an object, persisting to the file when there is one', async () => {
    const path = file();
    const s = new PolicyStore(path, log);
    await s.apply('# mine\nmemoryEvictThresholdPercent: 80\n');
    expect(readFileSync(path, 'utf8')).toBe('# mine\nmemoryEvictThresholdPercent: 80\n');
    expect(s.refresh()).toBe(false); // our own write is not a change to reload
    await s.apply({ memoryEvictThresholdPercent: 75 });
    expect(s.current.memoryEvictThresholdPercent).toBe(75);
    expect(readFileSync(path, 'utf8')).toMatch(/memoryEvictThresholdPercent: 75/);
    await expect(s.apply({ memoryEvictThresholdPercent: 0 })).rejects.toThrow(/memoryEvictThresholdPercent/);
    expect(s.current.memoryEvictThresholdPercent).toBe(75);
    const mem = new PolicyStore(undefined, log);
    await mem.apply({ cpuBurstPercent: 0 });
    expect(mem.status().source).toBe('admin API (in memory)');
  });
});
