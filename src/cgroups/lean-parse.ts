/**
 * Allocation-lean parsers for the hot stats path (100+ cgroups every second): numbers are read
 * straight from the bytes a read left in a buffer, and keyed files ("key value" lines, like
 * memory.stat) are searched for the few keys a caller needs instead of being turned into a
 * record of every key. Pure functions; the general parsers in parse.ts remain for everything
 * else. Accumulating digits is exact below 2^53 (like Number()); beyond that only the lowest
 * digits may differ, which neither rates nor the 2^62 "unlimited" threshold notice.
 */

const SPACE = 0x20;
const TAB = 0x09;
const NL = 0x0a;
const ZERO = 0x30;
const NINE = 0x39;

/** The unsigned decimal at buf[start..end) after leading blanks; undefined when there is none. */
export function uintAt(buf: Uint8Array, start: number, end: number): number | undefined {
  let i = start;
  while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
  let v = 0;
  const first = i;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < ZERO || c > NINE) break;
    v = v * 10 + (c - ZERO);
  }
  return i > first ? v : undefined;
}

/** A file that holds one unsigned integer ("123\n"): its value, or undefined for anything else. */
export function uintFile(buf: Uint8Array, len: number): number | undefined {
  let end = len;
  while (end > 0 && (buf[end - 1] === NL || buf[end - 1] === SPACE)) end--;
  let i = 0;
  while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
  if (i === end) return undefined;
  for (let j = i; j < end; j++) if (buf[j]! < ZERO || buf[j]! > NINE) return undefined;
  return uintAt(buf, i, end);
}

/** Whitespace-separated unsigned integers, one per line in cgroup id lists ("tasks", "cgroup.threads"). */
export function uintList(buf: Uint8Array, len: number, out: number[] = []): number[] {
  let i = 0;
  while (i < len) {
    const c = buf[i]!;
    if (c < ZERO || c > NINE) {
      i++;
      continue;
    }
    let v = 0;
    for (; i < len && buf[i]! >= ZERO && buf[i]! <= NINE; i++) v = v * 10 + (buf[i]! - ZERO);
    out.push(v);
  }
  return out;
}

/** The `n`th (0-based) whitespace-separated unsigned integer of buf[0..len) (e.g. /proc/<tid>/schedstat fields). */
export function nthUint(buf: Uint8Array, len: number, n: number): number | undefined {
  let i = 0;
  for (let field = 0; ; field++) {
    while (i < len && (buf[i] === SPACE || buf[i] === TAB || buf[i] === NL)) i++;
    if (i >= len) return undefined;
    if (field === n) return uintAt(buf, i, len);
    while (i < len && buf[i] !== SPACE && buf[i] !== TAB && buf[i] !== NL) i++;
  }
}

/** A key to look up in "key value" text, with its search strings built once. */
export interface Needle {
  key: string;
  /** "key " (the key on the first line). */
  head: string;
  /** "\nkey " (the key on any later line). */
  line: string;
}

export function needle(key: string): Needle {
  return { key, head: `${key} `, line: `\n${key} ` };
}

/** The value of `n.key` in "key value" lines, or undefined when the key is absent or not a number. */
export function keyedValue(text: string, n: Needle): number | undefined {
  let at: number;
  if (text.startsWith(n.head)) at = n.head.length;
  else {
    const i = text.indexOf(n.line);
    if (i < 0) return undefined;
    at = i + n.line.length;
  }
  let v = 0;
  const first = at;
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at);
    if (c < ZERO || c > NINE) break;
    v = v * 10 + (c - ZERO);
  }
  return at > first ? v : undefined;
}

/**
 * The value of the first key of `choices` that is present (e.g. v1 memory.stat's hierarchical
 * "total_rss" before the local "rss"); the key found is recorded in `out` when given.
 */
export function firstKeyed(text: string, choices: readonly Needle[], out?: Record<string, number>): number | undefined {
  for (const n of choices) {
    const v = keyedValue(text, n);
    if (v !== undefined) {
      if (out) out[n.key] = v;
      return v;
    }
  }
  return undefined;
}
