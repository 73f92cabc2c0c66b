import { BerthError, Code } from '../../../util/errors.js';

/**
 * A call that reached the peer and came back with a non-OK status. The ttrpc status code is a
 * gRPC code, so it maps 1:1 onto BerthError codes (NotFound, AlreadyExists, FailedPrecondition,
 * Unavailable …) and the CRI layer can pass it through.
 */
export class TtrpcStatusError extends BerthError {
  constructor(
    readonly method: string,
    readonly grpcCode: number,
    readonly grpcMessage: string,
  ) {
    super(codeFromGrpc(grpcCode), `${method}: ${grpcMessage || Code[codeFromGrpc(grpcCode)]}`);
    this.name = `TtrpcStatusError(${Code[this.code]})`;
  }
}

/** The connection is gone (closed by us, by the peer, or broken) before the call completed. */
export class TtrpcClosedError extends BerthError {
  constructor(message: string, cause?: unknown) {
    super(Code.UNAVAILABLE, message, { cause });
    this.name = 'TtrpcClosedError';
  }
}

/** A gRPC status code received on the wire → our Code; unknown numbers become UNKNOWN. */
export function codeFromGrpc(code: number): Code {
  return Number.isInteger(code) && code >= 1 && code <= 16 ? (code as Code) : Code.UNKNOWN;
}

/** Our error → the status a ttrpc server should answer with. */
export function statusFromError(err: unknown): { code: number; message: string } {
  if (err instanceof BerthError) return { code: err.code, message: err.message };
  return { code: Code.UNKNOWN, message: err instanceof Error ? err.message : String(err) };
}

export function isTtrpcCode(err: unknown, code: Code): boolean {
  return err instanceof BerthError && err.code === code;
}
