/**
 * A TOML reader for the two TOML documents berth has to understand: Kata's configuration
 * files (to find the hypervisor and its enabled annotations) and CoCo initdata. It covers
 * TOML 1.0 except dates and times: tables, arrays of tables, dotted and quoted keys, the four
 * string forms, integers (dec/hex/oct/bin), floats, booleans, arrays and inline tables.
 * Errors name the line. Pure: no I/O.
 */

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  override name = 'TomlError';
}

const BARE_KEY = /[A-Za-z0-9_-]/;

class Cursor {
  pos = 0;
  constructor(readonly src: string) {}

  get line(): number {
    let n = 1;
    for (let i = 0; i < this.pos && i < this.src.length; i++) if (this.src[i] === '\n') n++;
    return n;
  }

  fail(msg: string): never {
    throw new TomlError(`line ${this.line}: ${msg}`);
  }

  peek(n = 0): string {
    return this.src[this.pos + n] ?? '';
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  eof(): boolean {
    return this.pos >= this.src.length;
  }

  /** Spaces and tabs only. */
  ws(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  comment(): void {
    if (this.peek() !== '#') return;
    while (!this.eof() && this.peek() !== '\n') this.pos++;
  }

  /** Whitespace, newlines and comments (inside arrays). */
  wsnl(): void {
    for (;;) {
      this.ws();
      this.comment();
      if (this.peek() === '\n') this.pos++;
      else if (this.startsWith('\r\n')) this.pos += 2;
      else return;
    }
  }

  /** End of a key/value or table line: optional comment, then newline or end of input. */
  endOfLine(): void {
    this.ws();
    this.comment();
    if (this.eof()) return;
    if (this.peek() === '\n') this.pos++;
    else if (this.startsWith('\r\n')) this.pos += 2;
    else this.fail(`unexpected ${JSON.stringify(this.peek())} after a value`);
  }
}

function parseEscape(c: Cursor): string {
  const e = c.peek();
  c.pos++;
  const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\' };
  if (e in simple) return simple[e]!;
  if (e === 'u' || e === 'U') {
    const len = e === 'u' ? 4 : 8;
    const hex = c.src.slice(c.pos, c.pos + len);
    if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) c.fail(`bad unicode escape \\${e}${hex}`);
    c.pos += len;
    const cp = parseInt(hex, 16);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) c.fail(`invalid unicode scalar \\${e}${hex}`);
    return String.fromCodePoint(cp);
  }
  return c.fail(`unknown escape \\${e}`);
}

function parseBasicString(c: Cursor): string {
  c.pos++; // "
  let out = '';
  for (;;) {
    const ch = c.peek();
    if (ch === '' || ch === '\n') c.fail('unterminated string');
    c.pos++;
    if (ch === '"') return out;
    out += ch === '\\' ? parseEscape(c) : ch;
  }
}

function parseLiteralString(c: Cursor): string {
  c.pos++; // '
  const end = c.src.indexOf("'", c.pos);
  const nl = c.src.indexOf('\n', c.pos);
  if (end < 0 || (nl >= 0 && nl < end)) c.fail('unterminated literal string');
  const s = c.src.slice(c.pos, end);
  c.pos = end + 1;
  return s;
}

function skipFirstNewline(c: Cursor): void {
  if (c.peek() === '\n') c.pos++;
  else if (c.startsWith('\r\n')) c.pos += 2;
}

function parseMultilineLiteral(c: Cursor): string {
  c.pos += 3;
  skipFirstNewline(c);
  const end = c.src.indexOf("'''", c.pos);
  if (end < 0) c.fail("unterminated multi-line literal string (''')");
  // Up to two quotes may directly precede the closing delimiter.
  let close = end;
  while (c.src[close + 3] === "'" && close - end < 2) close++;
  const s = c.src.slice(c.pos, close);
  c.pos = close + 3;
  return s;
}

function parseMultilineBasic(c: Cursor): string {
  c.pos += 3;
  skipFirstNewline(c);
  let out = '';
  for (;;) {
    if (c.eof()) c.fail('unterminated multi-line string (""")');
    if (c.startsWith('"""')) {
      let extra = 0;
      while (c.peek(3 + extra) === '"' && extra < 2) extra++;
      out += '"'.repeat(extra);
      c.pos += 3 + extra;
      return out;
    }
    const ch = c.peek();
    c.pos++;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    // A backslash at the end of a line trims the newline and following whitespace.
    const rest = /^[ \t]*\r?\n/.exec(c.src.slice(c.pos));
    if (rest) {
      c.pos += rest[0].length;
      while (/[ \t\r\n]/.test(c.peek()) && !c.eof()) c.pos++;
      continue;
    }
    out += parseEscape(c);
  }
}

function parseString(c: Cursor): string {
  if (c.startsWith('"""')) return parseMultilineBasic(c);
  if (c.startsWith("'''")) return parseMultilineLiteral(c);
  if (c.peek() === '"') return parseBasicString(c);
  return parseLiteralString(c);
}

function parseKeyPart(c: Cursor): string {
  c.ws();
  const ch = c.peek();
  if (ch === '"') return parseBasicString(c);
  if (ch === "'") return parseLiteralString(c);
  const start = c.pos;
  while (BARE_KEY.test(c.peek()) && !c.eof()) c.pos++;
  if (c.pos === start) c.fail(`expected a key, found ${JSON.stringify(ch || 'end of input')}`);
  return c.src.slice(start, c.pos);
}

function parseKey(c: Cursor): string[] {
  const parts = [parseKeyPart(c)];
  for (;;) {
    c.ws();
    if (c.peek() !== '.') return parts;
    c.pos++;
    parts.push(parseKeyPart(c));
  }
}

function parseNumberOrBool(c: Cursor): number | boolean {
  const m = /^[+\-]?[0-9A-Za-z_.+\-]+/.exec(c.src.slice(c.pos));
  const tok = m?.[0] ?? '';
  if (!tok) c.fail(`expected a value, found ${JSON.stringify(c.peek() || 'end of input')}`);
  c.pos += tok.length;
  if (tok === 'true') return true;
  if (tok === 'false') return false;
  if (/^[+\-]?(inf|nan)$/.test(tok)) return tok.includes('nan') ? NaN : tok.startsWith('-') ? -Infinity : Infinity;
  if (/^\d{4}-\d{2}-\d{2}/.test(tok) || /^\d{2}:\d{2}/.test(tok)) c.fail(`dates and times are not supported (${tok})`);
  const digits = (s: string) => /^[0-9A-Fa-f]+(_[0-9A-Fa-f]+)*$/.test(s);
  for (const [prefix, radix, re] of [
    ['0x', 16, /^[0-9A-Fa-f_]+$/],
    ['0o', 8, /^[0-7_]+$/],
    ['0b', 2, /^[01_]+$/],
  ] as const) {
    if (tok.startsWith(prefix)) {
      const body = tok.slice(2);
      if (!re.test(body) || !digits(body)) c.fail(`bad integer ${tok}`);
      return parseInt(body.replace(/_/g, ''), radix);
    }
  }
  if (/^[+\-]?(0|[1-9](_?\d)*)$/.test(tok)) {
    const n = Number(tok.replace(/_/g, ''));
    if (!Number.isSafeInteger(n)) c.fail(`integer ${tok} is outside the range berth can represent exactly`);
    return n;
  }
  if (/^[+\-]?(0|[1-9](_?\d)*)(\.\d(_?\d)*)?([eE][+\-]?\d(_?\d)*)?$/.test(tok)) return Number(tok.replace(/_/g, ''));
  return c.fail(`unrecognised value ${JSON.stringify(tok)}`);
}

function parseArray(c: Cursor): TomlValue[] {
  c.pos++; // [
  const out: TomlValue[] = [];
  for (;;) {
    c.wsnl();
    if (c.peek() === ']') {
      c.pos++;
      return out;
    }
    out.push(parseValue(c));
    c.wsnl();
    if (c.peek() === ',') c.pos++;
    else if (c.peek() !== ']') c.fail(`expected "," or "]" in an array, found ${JSON.stringify(c.peek() || 'end of input')}`);
  }
}

function parseInlineTable(c: Cursor): TomlTable {
  c.pos++; // {
  const t: TomlTable = {};
  c.ws();
  if (c.peek() === '}') {
    c.pos++;
    return t;
  }
  for (;;) {
    const key = parseKey(c);
    c.ws();
    if (c.peek() !== '=') c.fail('expected "=" after a key in an inline table');
    c.pos++;
    c.ws();
    assign(c, t, key, parseValue(c));
    c.ws();
    if (c.peek() === ',') {
      c.pos++;
      continue;
    }
    if (c.peek() === '}') {
      c.pos++;
      return t;
    }
    c.fail('expected "," or "}" in an inline table');
  }
}

function parseValue(c: Cursor): TomlValue {
  const ch = c.peek();
  if (ch === '"' || ch === "'") return parseString(c);
  if (ch === '[') return parseArray(c);
  if (ch === '{') return parseInlineTable(c);
  return parseNumberOrBool(c);
}

const isTable = (v: TomlValue | undefined): v is TomlTable => typeof v === 'object' && v !== null && !Array.isArray(v);

function assign(c: Cursor, table: TomlTable, key: string[], value: TomlValue): void {
  let t = table;
  for (const part of key.slice(0, -1)) {
    const cur = t[part];
    if (cur === undefined) t = t[part] = {};
    else if (isTable(cur)) t = cur;
    else c.fail(`key ${key.join('.')}: ${part} is already a value`);
  }
  const last = key[key.length - 1]!;
  if (last in t) c.fail(`duplicate key ${key.join('.')}`);
  t[last] = value;
}

/** Walk to (creating) the table at `path`; for an array of tables, its last element. */
function tableAt(c: Cursor, root: TomlTable, path: string[]): TomlTable {
  let t = root;
  for (const part of path) {
    const cur = t[part];
    if (cur === undefined) t = t[part] = {};
    else if (isTable(cur)) t = cur;
    else if (Array.isArray(cur) && isTable(cur[cur.length - 1])) t = cur[cur.length - 1] as TomlTable;
    else c.fail(`[${path.join('.')}]: ${part} is already a value`);
  }
  return t;
}

/** Parse a TOML document. Throws TomlError("line N: …"). */
export function parseToml(src: string): TomlTable {
  const c = new Cursor(src.startsWith('\uFEFF') ? src.slice(1) : src);
  const root: TomlTable = {};
  const defined = new Set<string>();
  let current = root;
  for (;;) {
    c.wsnl();
    if (c.eof()) return root;
    if (c.peek() === '[') {
      const arrayTable = c.peek(1) === '[';
      c.pos += arrayTable ? 2 : 1;
      const path = parseKey(c);
      c.ws();
      if (!c.startsWith(arrayTable ? ']]' : ']')) c.fail(`expected "${arrayTable ? ']]' : ']'}" to close a table header`);
      c.pos += arrayTable ? 2 : 1;
      const id = JSON.stringify(path);
      if (!arrayTable && defined.has(id)) c.fail(`table [${path.join('.')}] is defined twice`);
      c.endOfLine();
      if (arrayTable) {
        const parent = tableAt(c, root, path.slice(0, -1));
        const last = path[path.length - 1]!;
        const arr: TomlValue = parent[last] ?? (parent[last] = []);
        if (!Array.isArray(arr)) return c.fail(`[[${path.join('.')}]]: already defined as a table or value`);
        const t: TomlTable = {};
        arr.push(t);
        current = t;
      } else {
        defined.add(id);
        current = tableAt(c, root, path);
      }
      continue;
    }
    const key = parseKey(c);
    c.ws();
    if (c.peek() !== '=') c.fail(`expected "=" after key ${key.join('.')}`);
    c.pos++;
    c.ws();
    assign(c, current, key, parseValue(c));
    c.endOfLine();
  }
}

/** A TOML basic string for `s` (quotes and escapes as needed). */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * A multi-line TOML string for a document embedded in TOML (initdata's data entries): a
 * literal '''…''' block when the text allows it (it reads back byte for byte), else a basic
 * string with escapes.
 */
export function tomlBlock(s: string): string {
  // A literal block cannot hold ''' or control characters other than tab and newlines.
  const literalOk = !s.includes("'''") && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s) && !/\r(?!\n)/.test(s);
  // The newline right after the opening ''' is not part of the value.
  if (literalOk) return `'''\n${s}'''`;
  return tomlString(s);
}
