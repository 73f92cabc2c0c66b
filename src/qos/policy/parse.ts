/** Parsing and validating policy documents (YAML or JSON text, or an already parsed object). */
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { invalidArgument, messageOf } from '../../util/errors.js';
import { policySchema, type Policy } from './schema.js';

/** "key.path: message" for each zod issue. */
export function policyIssues(err: z.ZodError): string[] {
  return err.issues.map((i) => {
    const key = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
    const msg = i.code === 'unrecognized_keys' ? `unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}` : i.message;
    return `${key}: ${msg}`;
  });
}

/** Validate a parsed document; INVALID_ARGUMENT naming every bad key path. */
export function validatePolicy(doc: unknown, source: string): Policy {
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw invalidArgument(`invalid QoS policy in ${source}: the top level must be a mapping`);
  const r = policySchema.safeParse(doc);
  if (!r.success) throw invalidArgument(`invalid QoS policy in ${source}: ${policyIssues(r.error).join('; ')}`);
  return r.data;
}

/** Parse YAML (or JSON, which is YAML) text and validate it. */
export function parsePolicyText(text: string, source: string): Policy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw invalidArgument(`invalid QoS policy in ${source}: not YAML or JSON: ${messageOf(err)}`);
  }
  return validatePolicy(doc, source);
}
