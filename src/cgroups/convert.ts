/**
 * Pure v1 ↔ v2 value conversions. The CRI and the OCI spec speak v1 units (cpu shares,
 * blkio weight, memory+swap); a v2 kernel wants cpu.weight, io.weight and swap alone.
 * The formulas are the ones runc and the kubelet use, so a value set by berth reads back the
 * same as one set by runc for the same CRI request. All integer maths floors, like theirs.
 */
import { invalidArgument } from '../util/errors.js';
import type { Max } from './types.js';

export const CPU_SHARES_MIN = 2;
export const CPU_SHARES_MAX = 262144;
export const CPU_WEIGHT_MIN = 1;
export const CPU_WEIGHT_MAX = 10000;
export const BLKIO_WEIGHT_MIN = 10;
export const BLKIO_WEIGHT_MAX = 1000;
/** The kernel's default CFS period (100 ms), the same in v1 and v2. */
export const DEFAULT_CFS_PERIOD_US = 100_000;
/** The smallest quota and period the kernel accepts (1 ms). */
export const MIN_CFS_US = 1000;
/** The largest period the kernel accepts (1 s). */
export const MAX_CFS_PERIOD_US = 1_000_000;

/** cpu.shares [2..262144] → cpu.weight [1..10000]: 1 + ((shares-2)*9999)/262142. 0 stays 0 (unset). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  const s = Math.min(Math.max(shares, CPU_SHARES_MIN), CPU_SHARES_MAX);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

/** cpu.weight [1..10000] → cpu.shares: 2 + ((weight-1)*262142)/9999 (the kubelet's inverse). */
export function weightToShares(weight: number): number {
  if (weight === 0) return 0;
  const w = Math.min(Math.max(weight, CPU_WEIGHT_MIN), CPU_WEIGHT_MAX);
  return 2 + Math.floor(((w - 1) * 262142) / 9999);
}

/** blkio weight [10..1000] → io.weight [1..10000]: 1 + (w-10)*9999/990. 0 stays 0 (unset). */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  const w = Math.min(Math.max(weight, BLKIO_WEIGHT_MIN), BLKIO_WEIGHT_MAX);
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

/** io.weight [1..10000] → blkio weight [10..1000], the inverse of blkioWeightToIoWeight. */
export function ioWeightToBlkioWeight(weight: number): number {
  if (weight === 0) return 0;
  const w = Math.min(Math.max(weight, 1), 10000);
  return 10 + Math.floor(((w - 1) * 990) / 9999);
}

/**
 * OCI `memory.swap` is memory+swap (the v1 memsw limit); v2's memory.swap.max is swap alone.
 * Inputs use the OCI convention (-1 unlimited, 0 unset); returns the v2 swap limit, 'max',
 * or undefined when nothing should be written.
 */
export function ociSwapToV2(memorySwap: number, memory: number): number | Max | undefined {
  if (memory === -1 && memorySwap === 0) return 'max';
  if (memorySwap === -1) return 'max';
  if (memorySwap === 0) return undefined;
  if (memory === -1) return memorySwap;
  if (memory === 0) throw invalidArgument('cannot set a swap limit without a memory limit');
  if (memory < 0) throw invalidArgument(`invalid memory limit ${memory}`);
  if (memorySwap < memory) {
    throw invalidArgument(`memory+swap limit ${memorySwap} is below the memory limit ${memory}`);
  }
  return memorySwap - memory;
}

/** A CPU count (e.g. 1.5) → CFS quota for `period`, never below the kernel's 1 ms minimum. */
export function cpusToQuota(cpus: number, periodUs = DEFAULT_CFS_PERIOD_US): number {
  return Math.max(MIN_CFS_US, Math.round(cpus * periodUs));
}

/** Round a byte count down to whole pages, as the kernel does for memory limits. */
export function pageFloor(bytes: number, pageSize: number): number {
  return Math.floor(bytes / pageSize) * pageSize;
}
