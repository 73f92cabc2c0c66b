/** Wall-clock time in nanoseconds with sub-millisecond resolution (Date has only ms). */
const baseNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function nowNs(): bigint {
  return baseNs + process.hrtime.bigint();
}

/** RFC 3339 with nanoseconds in UTC, e.g. 2026-11-22T04:48:08.780123456Z. */
export function rfc3339Nano(ns: bigint = nowNs()): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-11-22T04:48:08.780Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}
