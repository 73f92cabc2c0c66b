/**
 * What a remotecommand session reports on its error stream at the end (pure).
 *
 * Protocol v4 and later (SPDY v4.channel.k8s.io, WebSocket v4./v5.) write a metav1.Status
 * as JSON, field names and order as Go's encoding/json emits them. Older protocols write
 * only the message text, and nothing at all on success.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
}

export interface MetaStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: StatusCause[] };
  code?: number;
}

export const NON_ZERO_EXIT_CODE_REASON = 'NonZeroExitCode';
export const EXIT_CODE_CAUSE = 'ExitCode';

export function successStatus(): MetaStatus {
  return { metadata: {}, status: 'Success' };
}

export function exitCodeStatus(exitCode: number, cmd: string[]): MetaStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command ${JSON.stringify(cmd)}, exit code ${exitCode}`,
    reason: NON_ZERO_EXIT_CODE_REASON,
    details: { causes: [{ reason: EXIT_CODE_CAUSE, message: String(exitCode) }] },
  };
}

/** Like apimachinery's NewInternalError. */
export function internalErrorStatus(message: string): MetaStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

/** The bytes to write on the error stream for this status, or null to write nothing. */
export function encodeStatus(status: MetaStatus, jsonStatus: boolean): Buffer | null {
  if (jsonStatus) return Buffer.from(JSON.stringify(status));
  if (status.status === 'Success') return null;
  return Buffer.from(status.message ?? 'unknown error');
}

/** The status for how a session ended. */
export function statusFor(outcome: { exitCode: number } | { error: string } | 'attached', cmd: string[] = []): MetaStatus {
  if (outcome === 'attached') return successStatus();
  if ('error' in outcome) return internalErrorStatus(outcome.error);
  return outcome.exitCode === 0 ? successStatus() : exitCodeStatus(outcome.exitCode, cmd);
}
