/** CANCELLED errors (util/errors.ts has no helper for them): the caller gave up. */
import { BerthError, Code } from '../util/errors.js';

export function cancelledError(what: string, cause?: unknown): BerthError {
  return new BerthError(Code.CANCELLED, `${what}: cancelled`, { cause });
}

export function isCancelled(err: unknown): boolean {
  return err instanceof BerthError && err.code === Code.CANCELLED;
}
