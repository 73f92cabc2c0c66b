/**
 * berth's cgroup library: the only module that touches /sys/fs/cgroup.
 *
 *   const cg = CgroupManager.detect();           // mode v1 | hybrid | v2, mounts, features
 *   cg.feature('cpu.idle')                       // { name, available, reason?, file }
 *   const { path, ociCgroupsPath } = containerCgroup('systemd', { parent, id });
 *   await cg.create(path);
 *   await cg.write(path, 'cpuMax', { quota: 50_000, period: 100_000 });  // verified read-back
 *   cg.readStats(path)                           // typed snapshot; undefined if gone
 *   const r = new CgroupStatsReader(cg.system);  // the same, for every-second collectors:
 *   r.probe(path); r.read(path, { slow: false }); r.threadIds(path); r.sweep()  // cached descriptors
 *   await cg.destroy(path);                      // kill everything, then remove
 *
 * Paths are cgroup paths ("/kubepods/pod1/abc"), the same in every hierarchy. Errors are
 * BerthErrors: INVALID_ARGUMENT (bad value or path), FAILED_PRECONDITION (kernel refused or
 * feature missing; CgroupFileError carries `path` and `errno`), NOT_FOUND, INTERNAL.
 */
export { CgroupManager, type KnobSupport } from './manager.js';
export { detectCgroups, detectLayout, detectPageSize, type CgroupSystem, type DetectOptions } from './detect.js';
export {
  containerCgroup,
  parentCgroupPath,
  cgroupPathFromOci,
  expandSlice,
  cleanCgroupPath,
  driverOfParent,
  type CgroupDriver,
  type ContainerCgroup,
  type ContainerCgroupOptions,
} from './driver.js';
export { KNOBS, showKnobValue, type KnobName, type KnobValues, type CpuMax, type KnobSpec } from './knobs.js';
export {
  sharesToWeight,
  weightToShares,
  blkioWeightToIoWeight,
  ioWeightToBlkioWeight,
  ociSwapToV2,
  cpusToQuota,
  pageFloor,
  DEFAULT_CFS_PERIOD_US,
} from './convert.js';
export { normalizeCpuList, parseCpuList, expandCpuList } from './cpuset.js';
export { readStats, readNodePressure, type CgroupStats, type CpuStats, type MemoryStats, type PidsStats, type IoStats, type PsiStats, type ReadStatsOptions } from './stats.js';
export { CgroupStatsReader, defaultMaxOpen, type StatsReaderOptions, type ReadParts, type UsageProbe } from './stats-reader.js';
export { type Pressure, type PsiLine, type DeviceIo } from './parse.js';
export { CgroupFileError } from './fsio.js';
export type { CgroupMode, CgroupLayout, Controller, Feature, FeatureName, Max } from './types.js';
