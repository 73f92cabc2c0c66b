/**
 * A small strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on
 * anything a Prometheus server would reject or that breaks the format's rules — bad metric or
 * label names, bad escapes, unparsable values, a TYPE after samples or given twice, samples of a
 * family split apart, duplicate series (same name and label set), duplicate label names,
 * negative counters, histogram buckets that are not cumulative or lack le="+Inf" = _count.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface ParsedFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: ParsedSample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(line: number, msg: string): never {
  throw new Error(`exposition line ${line}: ${msg}`);
}

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) fail(line, `bad value ${JSON.stringify(s)}`);
  return Number(s);
}

/** Labels from after "{" up to the matching "}"; returns labels and the index after "}". */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) fail(line, 'label without "="');
    const name = text.slice(i, eq).trim();
    if (!LABEL.test(name)) fail(line, `bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(line, `duplicate label ${name}`);
    if (text[eq + 1] !== '"') fail(line, `label ${name}: value must be quoted`);
    let v = '';
    let j = eq + 2;
    for (;; j++) {
      const c = text[j];
      if (c === undefined) fail(line, `label ${name}: unterminated value`);
      if (c === '"') break;
      if (c === '\n') fail(line, 'raw newline in label value');
      if (c === '\\') {
        const n = text[++j];
        if (n === 'n') v += '\n';
        else if (n === '\\') v += '\\';
        else if (n === '"') v += '"';
        else fail(line, `bad escape \\${n ?? ''} in label ${name}`);
      } else v += c;
    }
    labels[name] = v;
    i = j + 1;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(line, `expected "," or "}" after label ${name}`);
  }
}

/** The family a sample belongs to (histogram/summary suffixes map to their base name). */
function familyOf(name: string, families: Map<string, ParsedFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const f = families.get(base);
      if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
    }
  }
  return name;
}

const seriesKey = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;

export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n');
  if (text.length && !text.endsWith('\n')) fail(lines.length, 'the exposition must end with a newline');
  lines.forEach((raw, idx) => {
    const n = idx + 1;
    const line = raw.trimEnd();
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kw, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!METRIC.test(name)) fail(n, `bad metric name ${JSON.stringify(name)}`);
      let f = families.get(name);
      if (f && closed.has(name)) fail(n, `${kw} for ${name} after its samples ended`);
      if (!f) families.set(name, (f = { name, type: 'untyped', samples: [] }));
      if (kw === 'TYPE') {
        if (f.samples.length) fail(n, `TYPE for ${name} after its samples`);
        if (!rest || !TYPES.has(rest)) fail(n, `bad type ${JSON.stringify(rest)}`);
        if ((f as { typed?: boolean }).typed) fail(n, `second TYPE for ${name}`);
        (f as { typed?: boolean }).typed = true;
        f.type = rest as ParsedFamily['type'];
      } else {
        if (f.help !== undefined) fail(n, `second HELP for ${name}`);
        f.help = rest ?? '';
      }
      if (current !== undefined && current !== name) closed.add(current);
      current = name;
      return;
    }
    const brace = line.indexOf('{');
    const sp = line.indexOf(' ');
    let name: string;
    let labels: Record<string, string> = {};
    let restStart: number;
    if (brace >= 0 && (sp < 0 || brace < sp)) {
      name = line.slice(0, brace);
      const r = parseLabels(line, brace + 1, n);
      labels = r.labels;
      restStart = r.end;
    } else {
      name = line.slice(0, sp < 0 ? line.length : sp);
      restStart = sp < 0 ? line.length : sp;
    }
    if (!METRIC.test(name)) fail(n, `bad metric name ${JSON.stringify(name)}`);
    const rest = line.slice(restStart).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') fail(n, `expected "value [timestamp]" after ${name}`);
    const value = parseValue(rest[0]!, n);
    const timestampMs = rest[1] === undefined ? undefined : Number(rest[1]);
    if (timestampMs !== undefined && !Number.isInteger(timestampMs)) fail(n, `bad timestamp ${rest[1]}`);
    const fam = familyOf(name, families);
    if (closed.has(fam)) fail(n, `samples of ${fam} are not contiguous`);
    if (current !== undefined && current !== fam) closed.add(current);
    current = fam;
    let f = families.get(fam);
    if (!f) families.set(fam, (f = { name: fam, type: 'untyped', samples: [] }));
    const key = seriesKey(name, labels);
    if (seen.has(key)) fail(n, `duplicate series ${key}`);
    seen.add(key);
    if (f.type === 'counter' && !(value >= 0)) fail(n, `counter ${name} has value ${value}`);
    f.samples.push({ name, labels, value, timestampMs });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: ParsedFamily): void {
  const groups = new Map<string, { buckets: { le: number; v: number }[]; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey('', rest);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push({ le: parseValue(le, 0), v: s.value });
    } else if (s.name === `${f.name}_count`) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const sorted = [...g.buckets].sort((a, b) => a.le - b.le);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.v < sorted[i - 1]!.v) throw new Error(`${f.name}${key}: buckets are not cumulative`);
    const inf = sorted[sorted.length - 1];
    if (!inf || inf.le !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no le="+Inf" bucket`);
    if (g.count !== inf.v) throw new Error(`${f.name}${key}: +Inf bucket ${inf.v} != _count ${g.count}`);
  }
}

/** All samples of a family name (or a histogram's _bucket/_sum/_count name), as a flat list. */
export function samplesOf(fams: Map<string, ParsedFamily>, name: string): ParsedSample[] {
  const direct = fams.get(name);
  if (direct) return direct.samples.filter((s) => s.name === name);
  for (const f of fams.values()) {
    const s = f.samples.filter((x) => x.name === name);
    if (s.length) return s;
  }
  return [];
}
