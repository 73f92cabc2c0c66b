/**
 * Test helpers over the compiled descriptors of our two CRI transcriptions (`npm run gen`
 * builds them from proto/runtime into src/gen/runtime/descriptors.json): a field-by-field contract comparison, and a generator of fully
 * populated messages whose shared fields get the same values in either package.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');

interface FieldD {
  name: string;
  number: number;
  label?: string;
  type: string;
  typeName?: string;
}
interface MessageD {
  name: string;
  field?: FieldD[];
  nestedType?: MessageD[];
  enumType?: EnumD[];
  options?: { mapEntry?: boolean };
}
interface EnumD {
  name: string;
  value: { name: string; number: number }[];
}
interface MethodD {
  name: string;
  inputType: string;
  outputType: string;
  serverStreaming?: boolean;
  clientStreaming?: boolean;
}

export interface Pkg {
  name: string;
  messages: Map<string, MessageD>;
  enums: Map<string, EnumD>;
  services: Map<string, MethodD[]>;
}

function indexFile(f: { package: string; messageType?: MessageD[]; enumType?: EnumD[]; service?: { name: string; method: MethodD[] }[] }): Pkg {
  const pkg: Pkg = { name: f.package, messages: new Map(), enums: new Map(), services: new Map() };
  const walk = (m: MessageD, prefix: string) => {
    const name = prefix + m.name;
    pkg.messages.set(name, m);
    for (const e of m.enumType ?? []) pkg.enums.set(`${name}.${e.name}`, e);
    for (const n of m.nestedType ?? []) walk(n, `${name}.`);
  };
  for (const m of f.messageType ?? []) walk(m, '');
  for (const e of f.enumType ?? []) pkg.enums.set(e.name, e);
  for (const s of f.service ?? []) pkg.services.set(s.name, s.method);
  return pkg;
}

/** Index both packages from the descriptor set `npm run gen` writes beside the generated code. */
export function loadPackages(): { v1: Pkg; v1alpha2: Pkg } {
  const out = readFileSync(join(REPO, 'src/gen/runtime/descriptors.json'), 'utf8');
  const files = (JSON.parse(out) as { file: (Parameters<typeof indexFile>[0] & { name: string })[] }).file;
  const byName = (n: string) => indexFile(files.find((f) => f.name === n)!);
  return { v1: byName('runtime/v1/api.proto'), v1alpha2: byName('runtime/v1alpha2/api.proto') };
}

/** A type name relative to its package (".runtime.v1.Foo.Bar" -> "Foo.Bar"). */
export const local = (pkg: Pkg, typeName: string | undefined) => (typeName ?? '').replace(`.${pkg.name}.`, '');

const TYPE_WORD: Record<string, string> = { TYPE_MESSAGE: 'message', TYPE_ENUM: 'enum' };
const describe = (pkg: Pkg, f: FieldD) =>
  `${f.label === 'LABEL_REPEATED' ? 'repeated ' : ''}${TYPE_WORD[f.type] ? local(pkg, f.typeName) : f.type.replace('TYPE_', '').toLowerCase()} ${f.name}`;

/**
 * Every place where a message, enum or RPC of `older` is not carried unchanged by `newer`:
 * missing types, a field number missing or with another name/label/type, enum values
 * renumbered, RPCs missing or with other messages or streaming. Empty when `older` is a
 * wire subset of `newer`.
 */
export function contractDifferences(older: Pkg, newer: Pkg): string[] {
  const out: string[] = [];
  for (const [name, m] of older.messages) {
    const n = newer.messages.get(name);
    if (!n) {
      out.push(`message ${name}: missing`);
      continue;
    }
    for (const f of m.field ?? []) {
      const g = (n.field ?? []).find((x) => x.number === f.number);
      if (!g) out.push(`${name} field ${f.number} (${f.name}): missing`);
      else if (describe(older, f) !== describe(newer, g)) out.push(`${name} field ${f.number}: ${describe(older, f)} -> ${describe(newer, g)}`);
    }
  }
  for (const [name, e] of older.enums) {
    const n = newer.enums.get(name);
    if (!n) {
      out.push(`enum ${name}: missing`);
      continue;
    }
    for (const v of e.value) {
      const w = n.value.find((x) => x.number === v.number);
      if (w?.name !== v.name) out.push(`enum ${name} value ${v.number}: ${v.name} -> ${w?.name ?? 'missing'}`);
    }
  }
  for (const [svc, methods] of older.services) {
    for (const m of methods) {
      const n = newer.services.get(svc)?.find((x) => x.name === m.name);
      const sig = (p: Pkg, x: MethodD) => `${local(p, x.inputType)} -> ${x.serverStreaming ? 'stream ' : ''}${local(p, x.outputType)}`;
      if (!n) out.push(`rpc ${svc}.${m.name}: missing`);
      else if (sig(older, m) !== sig(newer, n)) out.push(`rpc ${svc}.${m.name}: ${sig(older, m)} -> ${sig(newer, n)}`);
    }
  }
  return out;
}

/** Fields of `newer` messages that `older` lacks, as "Message.field". */
export function newerOnlyFields(older: Pkg, newer: Pkg): string[] {
  const out: string[] = [];
  for (const [name, m] of older.messages) {
    for (const g of newer.messages.get(name)?.field ?? []) {
      if (!(m.field ?? []).some((f) => f.number === g.number)) out.push(`${name}.${g.name}`);
    }
  }
  return out;
}

const INT64 = new Set(['TYPE_INT64', 'TYPE_UINT64', 'TYPE_SINT64', 'TYPE_FIXED64', 'TYPE_SFIXED64']);
const INT32 = new Set(['TYPE_INT32', 'TYPE_UINT32', 'TYPE_SINT32', 'TYPE_FIXED32', 'TYPE_SFIXED32']);

/**
 * A JSON object (proto field names, as ts-proto's fromJSON accepts) for message `name` with
 * every field set, recursively. Values depend only on the field's path and number, so a
 * field both packages share gets the same value in both (string vs bytes: same UTF-8).
 */
export function populate(pkg: Pkg, name: string, path = name, depth = 0): Record<string, unknown> {
  const m = pkg.messages.get(name);
  if (!m) throw new Error(`no message ${name} in ${pkg.name}`);
  const obj: Record<string, unknown> = {};
  if (depth > 8) return obj;
  for (const f of m.field ?? []) {
    const p = `${path}.${f.number}`;
    const one = (i: number): unknown => {
      const tag = `${p}#${i}`;
      switch (true) {
        case f.type === 'TYPE_STRING':
          return `s:${tag}`;
        case f.type === 'TYPE_BYTES':
          return Buffer.from(`s:${tag}`).toString('base64');
        case f.type === 'TYPE_BOOL':
          return true;
        case INT64.has(f.type):
          return String(1_000_000_000_000n * BigInt(f.number) + BigInt(i + 1));
        case INT32.has(f.type):
          return f.number * 10 + i + 1;
        case f.type === 'TYPE_DOUBLE' || f.type === 'TYPE_FLOAT':
          return f.number + 0.5;
        case f.type === 'TYPE_ENUM': {
          const e = pkg.enums.get(local(pkg, f.typeName))!;
          return Math.max(...e.value.map((v) => v.number));
        }
        case f.type === 'TYPE_MESSAGE':
          return populate(pkg, local(pkg, f.typeName), tag, depth + 1);
        default:
          throw new Error(`unhandled field type ${f.type}`);
      }
    };
    const entry = f.typeName ? pkg.messages.get(local(pkg, f.typeName)) : undefined;
    if (entry?.options?.mapEntry) {
      const key = (entry.field ?? []).find((x) => x.number === 1)!;
      const val = (entry.field ?? []).find((x) => x.number === 2)!;
      if (key.type !== 'TYPE_STRING' || val.type !== 'TYPE_STRING') throw new Error(`map ${name}.${f.name}: only map<string, string> handled`);
      obj[f.name] = { [`k1:${p}`]: `v1:${p}`, [`k2:${p}`]: `v2:${p}` };
    } else if (f.label === 'LABEL_REPEATED') {
      obj[f.name] = [one(0), one(1)];
    } else {
      obj[f.name] = one(0);
    }
  }
  return obj;
}
