/**
 * The typed knobs berth writes, each with its v1 and v2 file(s). Values use one unit per
 * knob whatever the kernel: e.g. `cpuShares` is in v1 shares and is converted to cpu.weight on
 * v2 (so on v2 it reads back through the lossy inverse: 512 → weight 20 → 500). Use the
 * native knob (`cpuWeight`, `ioWeight`) to avoid the round trip. oom_score_adj is per process
 * (/proc/<pid>/oom_score_adj), not a cgroup knob, and is not here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument } from '../util/errors.js';
import { CgroupFileError, writeCgroupFile } from './fsio.js';
import { normalizeCpuList } from './cpuset.js';
import { parseCpuMax } from './parse.js';
import {
  blkioWeightToIoWeight,
  ioWeightToBlkioWeight,
  sharesToWeight,
  weightToShares,
  CPU_SHARES_MAX,
  CPU_SHARES_MIN,
  CPU_WEIGHT_MAX,
  CPU_WEIGHT_MIN,
  MAX_CFS_PERIOD_US,
  MIN_CFS_US,
} from './convert.js';
import {
  boolCodec,
  bytesCodec,
  convertedCodec,
  fileKnob,
  intCodec,
  limitCodec,
  readWith,
  requireIntIn,
  requireLimit,
  weightCodec,
  type Codec,
  type KnobImpl,
} from './knob-codec.js';
import type { Controller, FeatureName, Max } from './types.js';

/** CFS bandwidth: `quota` µs of CPU time per `period` µs ('max' = no limit). */
export interface CpuMax {
  quota: number | Max;
  period: number;
}

/** The value type of every knob. Memory sizes are bytes; times are microseconds. */
export interface KnobValues {
  /** v1 cpu.shares [2..262144]; v2 cpu.weight via sharesToWeight. */
  cpuShares: number;
  /** v2 cpu.weight [1..10000]; v1 cpu.shares via weightToShares. */
  cpuWeight: number;
  /** v1 cpu.cfs_quota_us + cpu.cfs_period_us; v2 cpu.max. */
  cpuMax: CpuMax;
  /** v1 cpu.cfs_burst_us; v2 cpu.max.burst. Must not exceed the quota. */
  cpuBurst: number;
  /** cpu.idle (SCHED_IDLE for the whole group). While set, the kernel refuses weight/shares writes. */
  cpuIdle: boolean;
  /** Anolis group identity cpu.bvt_warp_ns [-1..2]. */
  cpuBvtWarpNs: number;
  /** OpenCloudOS cgroup.priority (v2 core file). */
  cgroupPriority: number;
  cpusetCpus: string;
  cpusetMems: string;
  /** v1 memory.limit_in_bytes; v2 memory.max. Rounded down to pages by the kernel. */
  memoryMax: number | Max;
  memoryHigh: number | Max;
  memoryLow: number | Max;
  memoryMin: number | Max;
  /** v1 memory.soft_limit_in_bytes; v2 has no equivalent (memoryLow is the closest). */
  memorySoftLimit: number | Max;
  /** v2 memory.swap.max (swap alone; see ociSwapToV2). */
  memorySwapMax: number | Max;
  /** v1 memory.memsw.limit_in_bytes (memory + swap, must be >= memoryMax). */
  memoryMemswLimit: number | Max;
  /** Anolis memory.wmark_ratio [0..100]. */
  memoryWmarkRatio: number;
  /** v2 memory.oom.group: the OOM killer kills the whole cgroup. */
  memoryOomGroup: boolean;
  pidsMax: number | Max;
  /** OCI blkio weight [10..1000]: v1 blkio.weight or blkio.bfq.weight; v2 io.bfq.weight, else io.weight converted. */
  blkioWeight: number;
  /** v2 io.weight default [1..10000]. */
  ioWeight: number;
}

export type KnobName = keyof KnobValues;

export interface KnobSpec<T> {
  name: string;
  /** The v1 hierarchy that holds the knob; undefined for cgroup core files. */
  controller?: Controller;
  /** The detected feature that must be available, if any. */
  feature?: FeatureName;
  /** At least one of these features must be available (knobs that pick a file at run time). */
  anyFeature?: FeatureName[];
  validate(value: T): void;
  v1?: KnobImpl<T>;
  v2?: KnobImpl<T>;
  /** Why a version has no such knob. */
  missing?: { v1?: string; v2?: string };
  /** Human form of a value for logs and errors. */
  show?(value: T): string;
}

/** Pick among files by which exists in the cgroup directory (first match wins). */
function firstExisting<T>(choices: Array<[string, KnobImpl<T>]>): KnobImpl<T> {
  const pick = (dir: string): KnobImpl<T> => {
    for (const [file, impl] of choices) if (existsSync(join(dir, file))) return impl;
    return choices[choices.length - 1]![1];
  };
  return {
    files: choices.map(([f]) => f),
    read: (dir, rd) => pick(dir).read(dir, rd),
    write: (dir, v, env) => pick(dir).write(dir, v, env),
    expected: (v, env, dir) => pick(dir).expected(v, env, dir),
  };
}

const cpusetCodec: Codec<string> = {
  encode: (v) => v,
  decode: (t) => {
    try {
      return normalizeCpuList(t);
    } catch {
      return undefined;
    }
  },
};

const cpuMaxV2Codec: Codec<CpuMax> = {
  encode: (v) => `${v.quota === 'max' ? 'max' : v.quota} ${v.period}`,
  decode: parseCpuMax,
};

/** v1 bandwidth is two files. Like runc: period first, but if the kernel refuses the new
 * period with the old quota (EINVAL, parent constraints), write the quota and retry. */
const cpuMaxV1: KnobImpl<CpuMax> = {
  files: ['cpu.cfs_quota_us', 'cpu.cfs_period_us'],
  read(dir, rd) {
    const quota = readWith(dir, 'cpu.cfs_quota_us', limitCodec('-1'), rd);
    const period = readWith(dir, 'cpu.cfs_period_us', intCodec, rd);
    return { quota, period };
  },
  async write(dir, v) {
    const quota = v.quota === 'max' ? '-1' : String(v.quota);
    const period = String(v.period);
    const periodPath = join(dir, 'cpu.cfs_period_us');
    let periodDone = true;
    try {
      await writeCgroupFile(periodPath, period, `cpu.cfs_period_us=${period}`);
    } catch (err) {
      if (!(err instanceof CgroupFileError) || err.errno !== 'EINVAL') throw err;
      periodDone = false;
    }
    await writeCgroupFile(join(dir, 'cpu.cfs_quota_us'), quota, `cpu.cfs_quota_us=${quota}`);
    if (!periodDone) await writeCgroupFile(periodPath, period, `cpu.cfs_period_us=${period}`);
  },
  expected: (v) => ({ quota: v.quota, period: v.period }),
};

const showLimit = (v: number | Max) => String(v);

function memoryKnob(name: string, v1File: string | undefined, v2File: string | undefined, feature?: FeatureName): KnobSpec<number | Max> {
  return {
    name,
    controller: 'memory',
    feature,
    validate: (v) => requireLimit(name, v, 0),
    v1: v1File ? fileKnob(v1File, bytesCodec('-1')) : undefined,
    v2: v2File ? fileKnob(v2File, bytesCodec('max')) : undefined,
    show: showLimit,
  };
}

export const KNOBS: { [K in KnobName]: KnobSpec<KnobValues[K]> } = {
  cpuShares: {
    name: 'cpuShares',
    controller: 'cpu',
    validate: (v) => requireIntIn('cpuShares', v, CPU_SHARES_MIN, CPU_SHARES_MAX),
    v1: fileKnob('cpu.shares', intCodec),
    v2: fileKnob('cpu.weight', convertedCodec(sharesToWeight, weightToShares)),
  },
  cpuWeight: {
    name: 'cpuWeight',
    controller: 'cpu',
    validate: (v) => requireIntIn('cpuWeight', v, CPU_WEIGHT_MIN, CPU_WEIGHT_MAX),
    v1: fileKnob('cpu.shares', convertedCodec(weightToShares, sharesToWeight)),
    v2: fileKnob('cpu.weight', intCodec),
  },
  cpuMax: {
    name: 'cpuMax',
    controller: 'cpu',
    validate: (v) => {
      if (typeof v !== 'object' || v === null) throw invalidArgument(`cpuMax must be { quota, period }, got ${JSON.stringify(v)}`);
      requireIntIn('cpuMax.period', v.period, MIN_CFS_US, MAX_CFS_PERIOD_US);
      requireLimit('cpuMax.quota', v.quota, MIN_CFS_US);
    },
    v1: cpuMaxV1,
    v2: fileKnob('cpu.max', cpuMaxV2Codec),
    show: (v) => `${v.quota}/${v.period}`,
  },
  cpuBurst: {
    name: 'cpuBurst',
    controller: 'cpu',
    feature: 'cpu.burst',
    validate: (v) => requireIntIn('cpuBurst', v, 0, Number.MAX_SAFE_INTEGER),
    v1: fileKnob('cpu.cfs_burst_us', intCodec),
    v2: fileKnob('cpu.max.burst', intCodec),
  },
  cpuIdle: {
    name: 'cpuIdle',
    controller: 'cpu',
    feature: 'cpu.idle',
    validate: (v) => {
      if (typeof v !== 'boolean') throw invalidArgument(`cpuIdle must be a boolean, got ${JSON.stringify(v)}`);
    },
    v1: fileKnob('cpu.idle', boolCodec),
    v2: fileKnob('cpu.idle', boolCodec),
  },
  cpuBvtWarpNs: {
    name: 'cpuBvtWarpNs',
    controller: 'cpu',
    feature: 'cpu.bvt_warp_ns',
    validate: (v) => requireIntIn('cpuBvtWarpNs', v, -1, 2),
    v1: fileKnob('cpu.bvt_warp_ns', intCodec),
    v2: fileKnob('cpu.bvt_warp_ns', intCodec),
  },
  cgroupPriority: {
    name: 'cgroupPriority',
    feature: 'cgroup.priority',
    validate: (v) => requireIntIn('cgroupPriority', v, 0, 2 ** 31 - 1),
    v2: fileKnob('cgroup.priority', intCodec),
    missing: { v1: 'cgroup.priority is a cgroup v2 core file (OpenCloudOS kernels)' },
  },
  cpusetCpus: {
    name: 'cpusetCpus',
    controller: 'cpuset',
    validate: (v) => void normalizeCpuList(v, 'cpusetCpus'),
    v1: fileKnob('cpuset.cpus', cpusetCodec),
    v2: fileKnob('cpuset.cpus', cpusetCodec),
  },
  cpusetMems: {
    name: 'cpusetMems',
    controller: 'cpuset',
    validate: (v) => void normalizeCpuList(v, 'cpusetMems'),
    v1: fileKnob('cpuset.mems', cpusetCodec),
    v2: fileKnob('cpuset.mems', cpusetCodec),
  },
  memoryMax: memoryKnob('memoryMax', 'memory.limit_in_bytes', 'memory.max'),
  memoryHigh: memoryKnob('memoryHigh', 'memory.high', 'memory.high', 'memory.high'),
  memoryLow: memoryKnob('memoryLow', 'memory.low', 'memory.low', 'memory.low'),
  memoryMin: memoryKnob('memoryMin', 'memory.min', 'memory.min', 'memory.min'),
  memorySoftLimit: {
    ...memoryKnob('memorySoftLimit', 'memory.soft_limit_in_bytes', undefined, 'memory.soft_limit'),
    missing: { v2: 'cgroup v2 has no soft limit; memoryLow is the closest knob' },
  },
  memorySwapMax: {
    ...memoryKnob('memorySwapMax', undefined, 'memory.swap.max', 'memory.swap'),
    missing: { v1: 'cgroup v1 limits memory+swap together: use memoryMemswLimit' },
  },
  memoryMemswLimit: {
    ...memoryKnob('memoryMemswLimit', 'memory.memsw.limit_in_bytes', undefined, 'memory.swap'),
    missing: { v2: 'cgroup v2 limits swap alone: use memorySwapMax (see ociSwapToV2)' },
  },
  memoryWmarkRatio: {
    name: 'memoryWmarkRatio',
    controller: 'memory',
    feature: 'memory.wmark_ratio',
    validate: (v) => requireIntIn('memoryWmarkRatio', v, 0, 100),
    v1: fileKnob('memory.wmark_ratio', intCodec),
    v2: fileKnob('memory.wmark_ratio', intCodec),
  },
  memoryOomGroup: {
    name: 'memoryOomGroup',
    controller: 'memory',
    feature: 'memory.oom.group',
    validate: (v) => {
      if (typeof v !== 'boolean') throw invalidArgument(`memoryOomGroup must be a boolean, got ${JSON.stringify(v)}`);
    },
    v2: fileKnob('memory.oom.group', boolCodec),
    missing: { v1: 'memory.oom.group exists only in cgroup v2' },
  },
  pidsMax: {
    name: 'pidsMax',
    controller: 'pids',
    validate: (v) => requireLimit('pidsMax', v, 0),
    v1: fileKnob('pids.max', limitCodec('max')),
    v2: fileKnob('pids.max', limitCodec('max')),
    show: showLimit,
  },
  blkioWeight: {
    name: 'blkioWeight',
    controller: 'blkio',
    anyFeature: ['blkio.weight', 'blkio.bfq.weight', 'io.bfq.weight', 'io.weight'],
    validate: (v) => requireIntIn('blkioWeight', v, 10, 1000),
    v1: firstExisting([
      ['blkio.weight', fileKnob('blkio.weight', intCodec)],
      ['blkio.bfq.weight', fileKnob('blkio.bfq.weight', intCodec)],
    ]),
    v2: firstExisting([
      ['io.bfq.weight', fileKnob('io.bfq.weight', weightCodec())],
      ['io.weight', fileKnob('io.weight', weightCodec(blkioWeightToIoWeight, ioWeightToBlkioWeight))],
    ]),
  },
  ioWeight: {
    name: 'ioWeight',
    controller: 'blkio',
    feature: 'io.weight',
    validate: (v) => requireIntIn('ioWeight', v, 1, 10000),
    v2: fileKnob('io.weight', weightCodec()),
    missing: { v1: 'io.weight exists only in cgroup v2: use blkioWeight' },
  },
};

/** Human form of a knob value, e.g. "max" or "50000/100000". */
export function showKnobValue<K extends KnobName>(knob: K, value: KnobValues[K]): string {
  const spec = KNOBS[knob] as KnobSpec<KnobValues[K]>;
  return spec.show ? spec.show(value) : typeof value === 'object' ? JSON.stringify(value) : String(value);
}
