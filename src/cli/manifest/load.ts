/**
 * Read a Pod manifest: YAML → strict schema → cross-field checks. Every problem is
 * reported at once, by YAML path and line: `pod.yaml:14: spec.containers[1].resources.
 * limits.cpu: invalid quantity "2x"` (pure apart from the caller reading the file).
 */
import { isMap, isNode, isScalar, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { core } from 'zod';
import { CliError, EXIT_USAGE } from '../errors.js';
import { checkPod, formatPath, type Path, type Problem } from './checks.js';
import { podSchema, type Pod } from './schema.js';
import { unsupportedReason } from './unsupported.js';

export interface LocatedProblem extends Problem {
  line?: number;
}

export class ManifestError extends CliError {
  constructor(
    readonly source: string,
    readonly problems: LocatedProblem[],
  ) {
    const lines = problems.map((p) => `  ${source}${p.line ? `:${p.line}` : ''}: ${p.path.length ? `${formatPath(p.path)}: ` : ''}${p.message}`);
    super(`${source} is not a Pod berth run can start (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`, EXIT_USAGE);
  }
}

function issueMessage(issue: core.$ZodIssue): string {
  const m = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type' && /received undefined$/.test(m)) return 'is required';
  if (issue.code === 'invalid_type') return m.replace(/^expected (\w+), received (\w+)$/, 'expected a $1, got a $2');
  return m.charAt(0).toLowerCase() + m.slice(1);
}

/** Problems of one zod issue (unrecognized keys become one problem per key). */
export function problemsOfIssue(issue: core.$ZodIssue): Problem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) as Path;
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const reason = unsupportedReason(path, key);
      return { path: [...path, key], message: reason ? `not supported by berth run: ${reason}` : `unknown field ${JSON.stringify(key)}` };
    });
  }
  return [{ path, message: issueMessage(issue) }];
}

/** The 1-based line of the node at `path` (a key's own line for the last element), if any. */
function lineOf(doc: Document, lc: LineCounter, path: Path): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const parent = n > 0 ? doc.getIn(path.slice(0, n - 1), true) : undefined;
    const last = path[n - 1];
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === last);
      const range = pair && isNode(pair.key) ? pair.key.range : undefined;
      if (range) return lc.linePos(range[0]).line;
    }
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Parse and validate a Pod manifest; throws ManifestError listing every problem. */
export function loadPod(text: string, source = 'manifest'): Pod {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  if (!Array.isArray(docs) || docs.length === 0) throw new ManifestError(source, [{ path: [], message: 'the file is empty; it should hold one Pod' }]);
  if (docs.length > 1) throw new ManifestError(source, [{ path: [], message: `the file holds ${docs.length} YAML documents; berth run takes exactly one Pod`, line: lc.linePos(docs[1]!.range[0]).line }]);
  const doc = docs[0]!;
  if (doc.errors.length) {
    throw new ManifestError(
      source,
      doc.errors.map((e) => ({ path: [], message: `YAML syntax: ${e.message.split('\n')[0]}`, line: e.linePos?.[0]?.line })),
    );
  }
  const value: unknown = doc.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestError(source, [{ path: [], message: 'expected a YAML mapping (a Pod object)' }]);
  }
  const parsed = podSchema.safeParse(value);
  const problems: Problem[] = parsed.success ? checkPod(parsed.data) : parsed.error.issues.flatMap(problemsOfIssue);
  if (problems.length) {
    const located = problems.map((p) => ({ ...p, line: lineOf(doc, lc, p.path) }));
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ManifestError(source, located);
  }
  return parsed.data!;
}
