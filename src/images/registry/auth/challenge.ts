/**
 * Parse `WWW-Authenticate` (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `name=value` / `name="quoted \"value\""` parameters. Several headers joined
 * with ", " (what node:http does) parse as several challenges.
 */
export interface Challenge {
  /** Lower-cased: "bearer", "basic", … */
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
/** Unquoted values: lenient (some servers send bare URLs), up to a comma or space. */
const BARE = /[^\s,]+/y;

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const text = Array.isArray(header) ? header.join(', ') : header;
  const out: Challenge[] = [];
  let pos = 0;
  const skip = (chars: RegExp) => {
    while (pos < text.length && chars.test(text[pos])) pos++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) return undefined;
    pos += m[0].length;
    return m[0];
  };
  const bare = (): string => {
    BARE.lastIndex = pos;
    const m = BARE.exec(text);
    pos += m ? m[0].length : 0;
    return m ? m[0] : '';
  };
  const quoted = (): string => {
    let v = '';
    pos++; // opening quote
    while (pos < text.length && text[pos] !== '"') {
      if (text[pos] === '\\' && pos + 1 < text.length) pos++;
      v += text[pos++];
    }
    pos++; // closing quote
    return v;
  };
  while (pos < text.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (!scheme) {
      pos++;
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skip(/[\s,]/);
      const save = pos;
      const name = token();
      if (!name) break;
      skip(/[ \t]/);
      if (text[pos] !== '=') {
        pos = save; // the next challenge's scheme
        break;
      }
      pos++;
      skip(/[ \t]/);
      challenge.params[name.toLowerCase()] = text[pos] === '"' ? quoted() : bare();
    }
  }
  return out;
}
