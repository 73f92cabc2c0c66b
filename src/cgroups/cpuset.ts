/**
 * CPU / memory-node list syntax used by cpuset.cpus and cpuset.mems ("0-3,6,8-9"). The kernel
 * prints lists in canonical form (sorted, merged ranges: "0,1" reads back as "0-1"); these
 * helpers give the same canonical form so a written value can be compared with what the kernel
 * reads back.
 */
import { invalidArgument } from '../util/errors.js';

/** A closed interval [lo, hi]. */
type Range = [number, number];

const ITEM = /^(\d+)(?:-(\d+))?$/;

/** Parse a list into merged, sorted ranges; INVALID_ARGUMENT on bad syntax. Empty → []. */
export function parseCpuList(list: string, what = 'cpu list'): Range[] {
  const text = list.trim();
  if (text === '') return [];
  const ranges: Range[] = [];
  for (const raw of text.split(',')) {
    const m = ITEM.exec(raw.trim());
    if (!m) throw invalidArgument(`${what} ${JSON.stringify(list)} is not a list like "0-3,6"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw invalidArgument(`${what} ${JSON.stringify(list)}: range ${raw} is reversed`);
    if (hi > 1 << 20) throw invalidArgument(`${what} ${JSON.stringify(list)}: ${hi} is not a plausible CPU or node number`);
    ranges.push([lo, hi]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Range[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

/** Canonical kernel form of merged ranges: "0-1,3". Two-element runs print as "0-1" too. */
export function formatCpuList(ranges: Range[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}

/** "1,0,2" → "0-2"; "" → "". */
export function normalizeCpuList(list: string, what?: string): string {
  return formatCpuList(parseCpuList(list, what));
}

/** Every id in the list, e.g. "0-2,5" → [0,1,2,5]. */
export function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const [lo, hi] of parseCpuList(list)) for (let i = lo; i <= hi; i++) out.push(i);
  return out;
}
