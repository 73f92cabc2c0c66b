/**
 * Errors that carry the gRPC status a caller should see. Domain modules throw these;
 * the CRI layer (src/cri/instrument.ts) turns them into gRPC statuses. Anything else
 * that escapes a handler is reported as INTERNAL.
 */
export enum Code {
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

export class BerthError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `BerthError(${Code[code]})`;
  }
}

export const invalidArgument = (msg: string, cause?: unknown) => new BerthError(Code.INVALID_ARGUMENT, msg, { cause });
export const notFound = (msg: string, cause?: unknown) => new BerthError(Code.NOT_FOUND, msg, { cause });
export const alreadyExists = (msg: string, cause?: unknown) => new BerthError(Code.ALREADY_EXISTS, msg, { cause });
export const failedPrecondition = (msg: string, cause?: unknown) =>
  new BerthError(Code.FAILED_PRECONDITION, msg, { cause });
export const unavailable = (msg: string, cause?: unknown) => new BerthError(Code.UNAVAILABLE, msg, { cause });
export const unauthenticated = (msg: string, cause?: unknown) => new BerthError(Code.UNAUTHENTICATED, msg, { cause });
export const permissionDenied = (msg: string, cause?: unknown) => new BerthError(Code.PERMISSION_DENIED, msg, { cause });
export const dataLoss = (msg: string, cause?: unknown) => new BerthError(Code.DATA_LOSS, msg, { cause });
export const resourceExhausted = (msg: string, cause?: unknown) =>
  new BerthError(Code.RESOURCE_EXHAUSTED, msg, { cause });
export const deadlineExceeded = (msg: string, cause?: unknown) => new BerthError(Code.DEADLINE_EXCEEDED, msg, { cause });
export const unimplemented = (msg: string) => new BerthError(Code.UNIMPLEMENTED, msg);
export const internal = (msg: string, cause?: unknown) => new BerthError(Code.INTERNAL, msg, { cause });

/** The errno code of a Node system error (ENOENT, ENOSPC …), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string'
    ? (err as { code: string }).code
    : undefined;
}

export function isNotFoundErrno(err: unknown): boolean {
  return errnoCode(err) === 'ENOENT';
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
