/**
 * Runtime-class policy (config key `runtimes.policy`): which runtime handlers a pod may or
 * must use, decided from its namespace, labels and annotations, plus a default handler per
 * namespace for pods that name none. Data validated here; decisions in evaluate.ts.
 *
 *   runtimes:
 *     policy:
 *       namespaceDefaults: { sandboxed: kata }
 *       rules:
 *         - name: finance-is-confidential
 *           match: { namespaces: [finance] }
 *           require: { confidential: true }
 *         - name: untrusted-in-a-vm
 *           match: { labels: { trust: untrusted } }
 *           require: { handlers: ["kata*"] }
 *         - name: no-crun-in-prod
 *           match: { namespaces: ["prod-*"] }
 *           forbid: { handlers: [crun] }
 */
import { z } from 'zod';

/** Names and globs: `*` any run of characters, `?` one. */
const pattern = z.string().min(1).regex(/^[A-Za-z0-9*?._\/-]+$/, 'expected a name or a glob (letters, digits, . _ - / * ?)');

/** Which handlers a selector picks; every field given must hold. */
export const handlerSelectorSchema = z
  .object({
    /** Handler names or globs ("kata*"); one must match. */
    handlers: z.array(pattern).min(1).optional(),
    /** Backend types; the handler's must be one of them. */
    types: z.array(z.enum(['runc', 'kata', 'coco'])).min(1).optional(),
    /** true: a CoCo handler whose guest runs in a hardware TEE (TDX, SEV-SNP); false: any other. */
    confidential: z.boolean().optional(),
    /** true: the handler runs pods in a VM (kata or coco); false: in host namespaces (runc, crun). */
    vm: z.boolean().optional(),
  })
  .strict()
  .refine((s) => s.handlers || s.types || s.confidential !== undefined || s.vm !== undefined, {
    message: 'a handler selector needs at least one of handlers, types, confidential, vm',
  });

export const policyRuleSchema = z
  .object({
    /** Named in every refusal, so an operator can find the rule. */
    name: z.string().min(1),
    /** Which pods the rule applies to; every field given must hold (none: every pod). */
    match: z
      .object({
        /** Pod namespaces (names or globs); one must match. */
        namespaces: z.array(pattern).min(1).optional(),
        /** Pod labels that must all be present with these values ("*": any value). */
        labels: z.record(z.string(), z.string()).optional(),
        /** Pod annotations that must all be present with these values ("*": any value). */
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .default({}),
    /** The pod's handler must match this selector. */
    require: handlerSelectorSchema.optional(),
    /** The pod's handler must not match this selector. */
    forbid: handlerSelectorSchema.optional(),
  })
  .strict()
  .refine((r) => r.require || r.forbid, { message: 'a rule needs require or forbid' });

export const runtimePolicySchema = z
  .object({
    /** Handler for pods of a namespace that name none (before runtimes.default). */
    namespaceDefaults: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Checked in order; the first rule a pod violates refuses it with PERMISSION_DENIED. */
    rules: z.array(policyRuleSchema).default([]),
  })
  .strict();

export type HandlerSelector = z.infer<typeof handlerSelectorSchema>;
export type PolicyRule = z.infer<typeof policyRuleSchema>;
export type RuntimePolicy = z.infer<typeof runtimePolicySchema>;

export const isGlob = (p: string): boolean => /[*?]/.test(p);

/** Shell-style glob match over the whole string (`*` may cross any character). */
export function globMatches(pattern: string, s: string): boolean {
  if (!isGlob(pattern)) return pattern === s;
  const re = pattern.replace(/[.+^${}()|[\]\\*?\/]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${re}$`).test(s);
}

/**
 * Problems with a policy given the configured handler names: a namespace default or a
 * selector naming a handler that does not exist (a typo would refuse every pod it applies to).
 * Each problem is [path, message] for the config error report.
 */
export function policyProblems(policy: RuntimePolicy, handlerNames: readonly string[]): [(string | number)[], string][] {
  const out: [(string | number)[], string][] = [];
  const known = new Set(handlerNames);
  const list = handlerNames.join(', ');
  for (const [ns, h] of Object.entries(policy.namespaceDefaults)) {
    if (!known.has(h)) out.push([['namespaceDefaults', ns], `handler ${JSON.stringify(h)} is not configured (configured: ${list})`]);
  }
  policy.rules.forEach((r, i) => {
    for (const key of ['require', 'forbid'] as const) {
      const sel = r[key];
      sel?.handlers?.forEach((p, j) => {
        const hits = handlerNames.some((n) => globMatches(p, n));
        if (!hits) out.push([['rules', i, key, 'handlers', j], `${JSON.stringify(p)} matches no configured handler (configured: ${list})`]);
      });
    }
  });
  const names = policy.rules.map((r) => r.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) out.push([['rules', i, 'name'], `rule name ${JSON.stringify(n)} is used twice`]);
  });
  return out;
}
