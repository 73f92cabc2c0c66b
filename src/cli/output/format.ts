/** Print structured results as JSON, YAML, or (per command) a table. */
import { stringify as yamlStringify } from 'yaml';
import type { CliContext } from '../context.js';

/** JSON-safe copy: bigints as strings, Uint8Arrays as base64, undefined dropped. */
export function toPlain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      // Buffers arrive already turned into {type, data} by their toJSON.
      const b = v as { type?: unknown; data?: unknown } | null;
      if (b && typeof b === 'object' && b.type === 'Buffer' && Array.isArray(b.data)) return Buffer.from(b.data as number[]).toString('base64');
      return v;
    }) ?? 'null',
  );
}

export function formatStructured(value: unknown, format: 'json' | 'yaml'): string {
  const plain = toPlain(value);
  return format === 'json' ? JSON.stringify(plain, null, 2) + '\n' : yamlStringify(plain);
}

/** Print `value` in the context's format; `table` renders the table form. */
export function emit(ctx: CliContext, value: unknown, table: () => string): void {
  if (ctx.output === 'table') ctx.io.stdout.write(table());
  else ctx.io.stdout.write(formatStructured(value, ctx.output));
}
