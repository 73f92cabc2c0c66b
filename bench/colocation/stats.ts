/**
 * Statistics for the co-location bench: percentiles, and how far a pooled p99 ratio can be
 * trusted when rounds differ from one another (background load drifts over minutes).
 */

/** The p-th percentile (nearest rank) of xs. */
export function pct(xs: ArrayLike<number>, p: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** A small seeded PRNG (mulberry32): the same run prints the same interval. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A paired bootstrap over rounds of p99(pool of a) / p99(pool of b): rounds are drawn with
 * replacement, the same round for both phases (they ran minutes apart at most, under the same
 * background), and the ratio of the pooled p99s is taken each time. Returns the central
 * `level` interval. Rounds are the unit because samples within one round are not independent:
 * a noisy minute slows many of them at once.
 */
export function roundBootstrap(a: number[][], b: number[][], p = 99, iterations = 1000, level = 0.9): { lo: number; hi: number } {
  const n = Math.min(a.length, b.length);
  if (n === 0) return { lo: NaN, hi: NaN };
  const next = rng(0xbe27);
  const ratios = new Float64Array(iterations);
  for (let k = 0; k < iterations; k++) {
    const pa: number[] = [];
    const pb: number[] = [];
    for (let j = 0; j < n; j++) {
      const r = Math.floor(next() * n);
      for (const x of a[r]!) pa.push(x);
      for (const x of b[r]!) pb.push(x);
    }
    ratios[k] = pct(pa, p) / pct(pb, p);
  }
  ratios.sort();
  const tail = (1 - level) / 2;
  return { lo: ratios[Math.floor(tail * iterations)]!, hi: ratios[Math.min(iterations - 1, Math.floor((1 - tail) * iterations))]! };
}

/**
 * The most BE can get, as a share of the CPU LS leaves idle, when suppression holds the node
 * at `thresholdPercent` of `capacity` cores and the rest of the node uses capacity − idle.
 */
export function beShareCeiling(capacity: number, idle: number, thresholdPercent: number): number {
  const allowance = (capacity * thresholdPercent) / 100 - (capacity - idle);
  return Math.max(0, Math.min(1, allowance / idle));
}
