import { resolve, sep, isAbsolute, normalize } from 'node:path';
import { invalidArgument } from './errors.js';

/**
 * Join `rel` under `root` and refuse anything that would escape it ("..", absolute
 * paths that leave root after normalisation). Lexical only: callers that then follow
 * symlinks inside the root must use a symlink-safe resolver (images/unpack does).
 */
export function joinWithin(root: string, rel: string, what = 'path'): string {
  const base = resolve(root);
  const target = resolve(base, '.' + sep + normalize(rel));
  if (target !== base && !target.startsWith(base + sep)) {
    throw invalidArgument(`${what} ${JSON.stringify(rel)} escapes ${base}`);
  }
  return target;
}

/** An absolute, normalised path with no ".." component, or INVALID_ARGUMENT. */
export function requireCleanAbsolute(p: string, what: string): string {
  if (!p || !isAbsolute(p)) throw invalidArgument(`${what} must be an absolute path, got ${JSON.stringify(p)}`);
  if (p.split('/').includes('..')) throw invalidArgument(`${what} must not contain "..": ${JSON.stringify(p)}`);
  return normalize(p);
}
