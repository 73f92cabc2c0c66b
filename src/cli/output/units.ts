/** Human-readable numbers for tables: bytes, ages, CPU (pure). */

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 → "1.5KiB"; small values keep their unit ("512B"). */
export function formatBytes(n: number | bigint | undefined): string {
  if (n === undefined) return '-';
  let v = Number(n);
  if (!Number.isFinite(v) || v < 0) return '-';
  let i = 0;
  while (v >= 1024 && i < BINARY.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits).replace(/\.0+$|(\.\d*[1-9])0+$/, '$1')}${BINARY[i]}`;
}

/** Elapsed time as kubectl prints it: 45s, 3m12s, 2h5m, 3d4h. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

/** Age of a CRI timestamp (int64 nanoseconds since the epoch). */
export function ageOfNs(ns: bigint | number | string | undefined, nowMs = Date.now()): string {
  if (ns === undefined) return '-';
  const n = BigInt(ns);
  if (n <= 0n) return '-';
  return formatAge(nowMs - Number(n / 1_000_000n));
}

/** CPU in cores from nanocores: 250_000_000 → "250m", 1_500_000_000 → "1.50". */
export function formatCores(nanoCores: number | undefined): string {
  if (nanoCores === undefined || !Number.isFinite(nanoCores)) return '-';
  const milli = nanoCores / 1e6;
  if (milli < 1000) return `${Math.round(milli)}m`;
  return (milli / 1000).toFixed(2);
}

/** A ratio 0..1 as a percentage with one decimal ("12.5%"). */
export function formatPercent(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '-';
  return `${(r * 100).toFixed(1)}%`;
}

/** Shorten an id to 12 characters as crictl and docker do. */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}
