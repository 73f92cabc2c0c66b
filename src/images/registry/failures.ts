/**
 * Turn the outcomes of trying each registry endpoint into one error a person can act on.
 * Precedence: credentials problems (401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED) over
 * "not there" (404 → NOT_FOUND) over "could not get an answer" (connection errors, timeouts,
 * 5xx → UNAVAILABLE). The message always lists every endpoint tried and what it said.
 */
import { BerthError, Code, notFound, permissionDenied, unauthenticated, unavailable } from '../../util/errors.js';

export type Attempt =
  | { endpoint: string; kind: 'status'; status: number; detail?: string }
  | { endpoint: string; kind: 'transport'; detail: string }
  | { endpoint: string; kind: 'error'; error: BerthError };

export function describeAttempt(a: Attempt): string {
  switch (a.kind) {
    case 'status':
      return `${a.endpoint}: HTTP ${a.status}${a.detail ? ` ${a.detail}` : ''}`;
    case 'transport':
      return `${a.endpoint}: ${a.detail}`;
    case 'error':
      return `${a.endpoint}: ${a.error.message}`;
  }
}

const codeOf = (a: Attempt): Code | undefined => {
  if (a.kind === 'error') return a.error.code;
  if (a.kind !== 'status') return undefined;
  if (a.status === 401) return Code.UNAUTHENTICATED;
  if (a.status === 403) return Code.PERMISSION_DENIED;
  if (a.status === 404) return Code.NOT_FOUND;
  return undefined;
};

/**
 * @param what  what we were fetching, e.g. "manifest 127.0.0.1:5000/team/app:v1"
 * @param repo  the repository, e.g. "127.0.0.1:5000/team/app"
 */
export function failureFor(what: string, repo: string, attempts: readonly Attempt[]): BerthError {
  const tried = attempts.map(describeAttempt).join('; ');
  const has = (c: Code) => attempts.some((a) => codeOf(a) === c);
  if (has(Code.UNAUTHENTICATED)) {
    return unauthenticated(`pull access denied for ${repo}: the registry wants credentials or rejected the ones given (tried ${tried})`);
  }
  if (has(Code.PERMISSION_DENIED)) return permissionDenied(`pull access to ${repo} is forbidden (tried ${tried})`);
  if (has(Code.NOT_FOUND)) return notFound(`${what} not found (tried ${tried})`);
  return unavailable(`cannot fetch ${what}: no registry endpoint gave an answer (tried ${tried})`);
}
