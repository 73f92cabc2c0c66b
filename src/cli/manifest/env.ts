/**
 * Container environment as the kubelet builds it (pure): values in order, each expanding
 * $(NAME) references to variables defined before it, downward-API fieldRefs filled from the
 * pod, then command and args expanded with the whole environment. `$$` escapes a dollar;
 * an undefined reference stays as written.
 */
import type { EnvVar } from './schema.js';

/** Expand $(NAME) in `s` with `lookup`. */
export function expand(s: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '$' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const next = s[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = s.indexOf(')', i + 2);
      if (close > 0) {
        const name = s.slice(i + 2, close);
        const v = lookup(name);
        out += v ?? `$(${name})`;
        i = close;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** What fieldRefs can read. */
export interface DownwardFacts {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  podIP: string;
  hostIP: string;
  nodeName: string;
}

export function fieldRefValue(path: string, f: DownwardFacts): string {
  const keyed = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (keyed) return (keyed[1] === 'labels' ? f.labels : f.annotations)[keyed[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return f.name;
    case 'metadata.namespace':
      return f.namespace;
    case 'metadata.uid':
      return f.uid;
    case 'status.podIP':
    case 'status.podIPs':
      return f.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return f.hostIP;
    default:
      return f.nodeName; // spec.nodeName, spec.hostname (checks.ts allows nothing else)
  }
}

export interface ResolvedEnv {
  envs: { key: string; value: string }[];
  command: string[];
  args: string[];
}

export function resolveEnv(env: EnvVar[] | undefined, command: string[] | undefined, args: string[] | undefined, facts: DownwardFacts): ResolvedEnv {
  const values = new Map<string, string>();
  for (const e of env ?? []) {
    const ref = e.valueFrom?.fieldRef?.fieldPath;
    const v = ref !== undefined ? fieldRefValue(ref, facts) : expand(e.value ?? '', (n) => values.get(n));
    values.delete(e.name); // a redefinition moves to the end, as in the kubelet's list
    values.set(e.name, v);
  }
  const lookup = (n: string) => values.get(n);
  return {
    envs: [...values].map(([key, value]) => ({ key, value })),
    command: (command ?? []).map((s) => expand(s, lookup)),
    args: (args ?? []).map((s) => expand(s, lookup)),
  };
}
