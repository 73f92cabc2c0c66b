/**
 * Kubernetes resource quantities ("500m", "1.5", "128Mi", "1e3", "2G"), parsed exactly
 * (rationals over bigints, no floating point) and rounded up as the API does for
 * MilliValue() and Value() (pure).
 */

export interface Quantity {
  /** The text as written. */
  text: string;
  /** value = num / den, den > 0. */
  num: bigint;
  den: bigint;
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const NUMBER = /^([+-]?)(\d+\.?\d*|\.\d+)(.*)$/;

function pow(base: bigint, exp: number): bigint {
  return base ** BigInt(exp);
}

/** Parse a quantity, or undefined when the text is not one. */
export function parseQuantity(input: string | number): Quantity | undefined {
  const text = typeof input === 'number' ? String(input) : input;
  if (typeof input === 'number' && !Number.isFinite(input)) return undefined;
  const m = NUMBER.exec(text.trim() === text ? text : '');
  if (!m) return undefined;
  const [, sign, digits, suffix] = m as unknown as [string, string, string, string];
  const [whole, frac = ''] = digits.split('.');
  let num = BigInt((whole || '0') + frac) * (sign === '-' ? -1n : 1n);
  let den = pow(10n, frac.length);
  if (suffix in BINARY) {
    num *= pow(2n, BINARY[suffix]!);
  } else if (suffix in DECIMAL) {
    const e = DECIMAL[suffix]!;
    if (e >= 0) num *= pow(10n, e);
    else den *= pow(10n, -e);
  } else {
    const exp = /^[eE]([+-]?\d+)$/.exec(suffix);
    if (!exp) return undefined;
    const e = Number(exp[1]);
    if (Math.abs(e) > 30) return undefined;
    if (e >= 0) num *= pow(10n, e);
    else den *= pow(10n, -e);
  }
  return { text, num, den };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

/** Value × 1000, rounded up (cpu "0.1" → 100, "1m" → 1, "0.0001" → 1). */
export function milliValue(q: Quantity): bigint {
  return ceilDiv(q.num * 1000n, q.den);
}

/** Value rounded up to an integer (memory "1.5Ki" → 1536, "0.5" → 1). */
export function intValue(q: Quantity): bigint {
  return ceilDiv(q.num, q.den);
}

export function isNegative(q: Quantity): boolean {
  return q.num < 0n;
}

export function isZero(q: Quantity): boolean {
  return q.num === 0n;
}

/** Compare two quantities: -1, 0, 1. */
export function compareQuantities(a: Quantity, b: Quantity): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}
