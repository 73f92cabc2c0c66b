/**
 * CLI errors and exit codes: 0 ok, 1 failure, 2 usage. Every message should say what went
 * wrong and what to do next; describeError() turns gRPC, admin-API and socket errors into
 * such messages.
 */
import { AdminError } from '../admin/client.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A mistake in how the command was called (exit status 2). */
export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);
/** The command ran and failed (exit status 1). */
export const failure = (message: string): CliError => new CliError(message, EXIT_FAILURE);

/** A command that has decided its exit status (e.g. exec propagating the remote one). */
export class ExitStatus extends Error {
  constructor(readonly exitCode: number) {
    super(`exit status ${exitCode}`);
  }
}

const GRPC_CODE_NAMES: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

interface GrpcLike {
  code: number;
  details?: string;
  message: string;
}

function isGrpcError(err: unknown): err is GrpcLike {
  return typeof err === 'object' && err !== null && typeof (err as GrpcLike).code === 'number' && 'details' in err;
}

function errno(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

export interface Sockets {
  socket: string;
  adminSocket: string;
}

function unreachable(what: string, path: string, why: string): string {
  return (
    `cannot reach berthd's ${what} at ${path} (${why}). Is berthd running? ` +
    `Start it (scripts/setup.sh, or berthd --config FILE), or point the CLI at its socket with --socket PATH or BERTH_SOCKET.`
  );
}

/** A message for any error a command may end with. */
export function describeError(err: unknown, s: Sockets): string {
  if (err instanceof CliError) return err.message;
  if (err instanceof AdminError) {
    if (err.status === 404 && /no such route/.test(err.message)) {
      return `${err.message}: this berthd does not serve that admin route (the feature is missing or not enabled in this build); upgrade berthd or check \`berth info\``;
    }
    return err.message;
  }
  const code = errno(err);
  if (code === 'ENOENT' || code === 'ECONNREFUSED') return unreachable('admin API', s.adminSocket, code === 'ENOENT' ? 'no such socket' : 'connection refused');
  if (code === 'EACCES') return `permission denied on ${s.adminSocket}: run berth as root or as a member of the socket's group`;
  if (isGrpcError(err)) {
    const details = err.details || err.message;
    if (err.code === 14 && /ENOENT|No connection established|connect/i.test(details)) {
      return unreachable('CRI socket', s.socket, /ENOENT/.test(details) ? 'no such socket' : details);
    }
    if (err.code === 14 && /EACCES/.test(details)) return `permission denied on ${s.socket}: run berth as root or as a member of the socket's group`;
    if (err.code === 4) return `berthd did not answer in time (${details}); check its log (/var/log/berth/berthd.log) and retry`;
    return `${details} (${GRPC_CODE_NAMES[err.code] ?? `code ${err.code}`})`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The gRPC status code of an error, if it is one. */
export function grpcCode(err: unknown): number | undefined {
  return isGrpcError(err) ? err.code : undefined;
}

export const GRPC_NOT_FOUND = 5;
export const GRPC_UNIMPLEMENTED = 12;
