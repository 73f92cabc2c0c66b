/**
 * Runtime-class policy decisions (pure): which handler a pod gets when it names none, and
 * whether the handler it gets is allowed. A refusal names the rule and says what would be
 * allowed instead, so the person reading the kubelet event can act on it.
 */
import { globMatches, type HandlerSelector, type PolicyRule, type RuntimePolicy } from './schema.js';

export interface PodFacts {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface HandlerFacts {
  name: string;
  type: 'runc' | 'kata' | 'coco';
  /** CoCo in a hardware TEE. */
  confidential: boolean;
  /** Pods run in a VM. */
  vm: boolean;
}

export interface HandlerChoice {
  handler: string;
  /** Where the name came from: the request, the namespace default, or runtimes.default. */
  source: 'request' | 'namespace' | 'global';
}

export interface PolicyViolation {
  rule: string;
  message: string;
}

/** The handler for a pod: the requested one, else its namespace's default, else the global default. */
export function chooseHandler(policy: RuntimePolicy, namespace: string, requested: string, globalDefault: string): HandlerChoice {
  if (requested) return { handler: requested, source: 'request' };
  const defaults = Object.entries(policy.namespaceDefaults);
  const exact = defaults.find(([ns]) => ns === namespace);
  const hit = exact ?? defaults.find(([ns]) => globMatches(ns, namespace));
  return hit ? { handler: hit[1], source: 'namespace' } : { handler: globalDefault, source: 'global' };
}

const valueMatches = (want: string, got: string | undefined) => got !== undefined && (want === '*' || want === got);

export function ruleApplies(rule: PolicyRule, pod: PodFacts): boolean {
  const m = rule.match;
  if (m.namespaces && !m.namespaces.some((p) => globMatches(p, pod.namespace))) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (!valueMatches(v, pod.labels[k])) return false;
  for (const [k, v] of Object.entries(m.annotations ?? {})) if (!valueMatches(v, pod.annotations[k])) return false;
  return true;
}

export function selectorMatches(sel: HandlerSelector, h: HandlerFacts): boolean {
  if (sel.handlers && !sel.handlers.some((p) => globMatches(p, h.name))) return false;
  if (sel.types && !sel.types.includes(h.type)) return false;
  if (sel.confidential !== undefined && sel.confidential !== h.confidential) return false;
  if (sel.vm !== undefined && sel.vm !== h.vm) return false;
  return true;
}

/** "a handler named kata* of type coco that runs in a hardware TEE" and the like. */
export function describeSelector(sel: HandlerSelector): string {
  const parts: string[] = [];
  if (sel.handlers) parts.push(`named ${sel.handlers.join(' or ')}`);
  if (sel.types) parts.push(`of type ${sel.types.join(' or ')}`);
  if (sel.confidential === true) parts.push('that is confidential (CoCo in a hardware TEE)');
  if (sel.confidential === false) parts.push('that is not confidential');
  if (sel.vm === true) parts.push('that runs pods in a VM');
  if (sel.vm === false) parts.push('that runs pods without a VM');
  return `a handler ${parts.join(' ')}`;
}

function describeMatch(rule: PolicyRule): string {
  const m = rule.match;
  const parts: string[] = [];
  if (m.namespaces) parts.push(`in namespace ${m.namespaces.join(' or ')}`);
  const kv = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => (v === '*' ? k : `${k}=${v}`)).join(', ');
  if (m.labels && Object.keys(m.labels).length) parts.push(`labelled ${kv(m.labels)}`);
  if (m.annotations && Object.keys(m.annotations).length) parts.push(`annotated ${kv(m.annotations)}`);
  return parts.length ? `pods ${parts.join(' and ')}` : 'all pods';
}

/**
 * The first rule `handler` violates for `pod`, or undefined when every rule that applies is
 * satisfied. `all` (every configured handler) is used to list the allowed alternatives.
 */
export function checkPolicy(policy: RuntimePolicy, pod: PodFacts, handler: HandlerFacts, all: readonly HandlerFacts[]): PolicyViolation | undefined {
  for (const rule of policy.rules) {
    if (!ruleApplies(rule, pod)) continue;
    const requireOk = !rule.require || selectorMatches(rule.require, handler);
    const forbidOk = !rule.forbid || !selectorMatches(rule.forbid, handler);
    if (requireOk && forbidOk) continue;
    const allowed = all
      .filter((h) => (!rule.require || selectorMatches(rule.require, h)) && (!rule.forbid || !selectorMatches(rule.forbid, h)))
      .map((h) => h.name);
    const why = !requireOk ? `must use ${describeSelector(rule.require!)}` : `must not use ${describeSelector(rule.forbid!)}`;
    const instead = allowed.length ? `handlers allowed for this pod: ${allowed.join(', ')}` : 'no configured handler satisfies it';
    return {
      rule: rule.name,
      message:
        `runtime-class policy rule ${JSON.stringify(rule.name)} refuses runtime handler ${JSON.stringify(handler.name)} ` +
        `for pod ${pod.namespace}/${pod.name}: ${describeMatch(rule)} ${why}; ${instead}`,
    };
  }
  return undefined;
}
