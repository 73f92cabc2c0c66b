/**
 * Pure parsers for the formats of cgroup and /proc/pressure files. Numbers are JS numbers:
 * exact up to 2^53; beyond that (e.g. a node's cumulative CPU nanoseconds after ~104 CPU-days)
 * they lose only their lowest digits, which rate computations do not notice.
 */
import type { Max } from './types.js';

/** v1 prints "unlimited" memory as PAGE_COUNTER_MAX*page (9223372036854771712) or similar. */
const V1_UNLIMITED_THRESHOLD = 2 ** 62;

/** "key value" per line → record (cpu.stat, memory.stat, memory.events, cpuacct.stat …). */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const sp = text.indexOf(' ', start);
    if (sp > start && sp < end) {
      const v = Number(text.slice(sp + 1, end));
      if (!Number.isNaN(v)) out[text.slice(start, sp)] = v;
    }
    start = end + 1;
  }
  return out;
}

/**
 * A single value: an integer, or 'max' for "max", "-1" or a v1 "unlimited" sentinel.
 * Returns undefined for anything else.
 */
export function parseLimit(text: string): number | Max | undefined {
  const t = text.trim();
  if (t === 'max' || t === '-1') return 'max';
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= V1_UNLIMITED_THRESHOLD ? 'max' : n;
}

/** A plain non-negative or negative integer; undefined if the text is not one. */
export function parseInteger(text: string): number | undefined {
  const t = text.trim();
  return /^-?\d+$/.test(t) ? Number(t) : undefined;
}

/** v2 cpu.max: "max 100000" or "50000 100000". */
export function parseCpuMax(text: string): { quota: number | Max; period: number } | undefined {
  const [q, p] = text.trim().split(/\s+/);
  const period = p === undefined ? undefined : parseInteger(p);
  if (q === undefined || period === undefined) return undefined;
  if (q === 'max') return { quota: 'max', period };
  const quota = parseInteger(q);
  return quota === undefined ? undefined : { quota, period };
}

/** Whitespace-separated numbers (cpuacct.usage_percpu). */
export function parseNumberList(text: string): number[] {
  return text
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number);
}

/** The weight files: "100", "default 100\n8:0 200" (v2 io.weight, io.bfq.weight). → default. */
export function parseWeight(text: string): number | undefined {
  const first = text.trim().split('\n')[0] ?? '';
  const m = /^(?:default\s+)?(\d+)$/.exec(first.trim());
  return m ? Number(m[1]) : undefined;
}

export interface DeviceIo {
  major: number;
  minor: number;
  readBytes: number;
  writeBytes: number;
  reads: number;
  writes: number;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
export function parseIoStat(text: string): DeviceIo[] {
  const out: DeviceIo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(fields[0] ?? '');
    if (!dev) continue;
    const kv: Record<string, number> = {};
    for (const f of fields.slice(1)) {
      const eq = f.indexOf('=');
      if (eq > 0) kv[f.slice(0, eq)] = Number(f.slice(eq + 1));
    }
    out.push({
      major: Number(dev[1]),
      minor: Number(dev[2]),
      readBytes: kv.rbytes ?? 0,
      writeBytes: kv.wbytes ?? 0,
      reads: kv.rios ?? 0,
      writes: kv.wios ?? 0,
    });
  }
  return out;
}

/**
 * v1 blkio.throttle.io_service_bytes / io_serviced: "8:0 Read 4096" lines per device and
 * operation (Read, Write, Sync, Async, Discard, Total) plus a final "Total N". Returns
 * device → op → value.
 */
export function parseBlkioV1(text: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3 || !/^\d+:\d+$/.test(f[0]!)) continue;
    let ops = out.get(f[0]!);
    if (!ops) out.set(f[0]!, (ops = {}));
    ops[f[1]!] = Number(f[2]);
  }
  return out;
}

/** Combine v1 bytes and ops tables into per-device records. */
export function blkioV1ToDevices(bytes: Map<string, Record<string, number>>, ops: Map<string, Record<string, number>>): DeviceIo[] {
  const keys = new Set([...bytes.keys(), ...ops.keys()]);
  return [...keys].map((dev) => {
    const [major, minor] = dev.split(':').map(Number) as [number, number];
    const b = bytes.get(dev) ?? {};
    const o = ops.get(dev) ?? {};
    return { major, minor, readBytes: b.Read ?? 0, writeBytes: b.Write ?? 0, reads: o.Read ?? 0, writes: o.Write ?? 0 };
  });
}

export interface PsiLine {
  /** Percent of wall time stalled, averaged over 10 s, 60 s and 300 s. */
  avg10: number;
  avg60: number;
  avg300: number;
  /** Total stall time in microseconds (monotonic). */
  totalUs: number;
}

export interface Pressure {
  some: PsiLine;
  /** Absent for node-level cpu on kernels before 5.13. */
  full?: PsiLine;
}

/** The unsigned decimal ("4.19", "23933490") at text[i..), stopping at the first other character; 0 when none. */
function decimalAt(text: string, i: number): number {
  let v = 0;
  let scale = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && scale === 0) scale = 1;
    else if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      if (scale) scale *= 10;
    } else break;
  }
  return scale > 1 ? v / scale : v;
}

/** One "some …"/"full …" line of a PSI file: the value after each `key=` within text[start..end). */
function psiLine(text: string, start: number, end: number): PsiLine {
  const get = (key: string) => {
    const i = text.indexOf(key, start);
    return i < 0 || i >= end ? 0 : decimalAt(text, i + key.length);
  };
  return { avg10: get('avg10='), avg60: get('avg60='), avg300: get('avg300='), totalUs: get('total=') };
}

/**
 * "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull …" (node and cgroup PSI files). Read
 * every pass for every cgroup, so it scans the text instead of splitting it; absent fields
 * read as 0.
 */
export function parsePressure(text: string): Pressure | undefined {
  let some: PsiLine | undefined;
  let full: PsiLine | undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let i = start;
    while (i < end && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (text.startsWith('some ', i)) some = psiLine(text, i, end);
    else if (text.startsWith('full ', i)) full = psiLine(text, i, end);
    start = end + 1;
  }
  return some ? (full ? { some, full } : { some }) : undefined;
}

/** cgroup.procs / tasks: one pid per line. */
export function parsePids(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t !== '') out.push(Number(t));
  }
  return out;
}
