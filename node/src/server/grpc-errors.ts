// One place that decides which gRPC status each failure becomes, so clients can tell "retry elsewhere" (UNAVAILABLE),
// "slow down" (RESOURCE_EXHAUSTED), "fix your request" (INVALID_ARGUMENT) and "outcome unknown" (DEADLINE_EXCEEDED).
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  NotLeaderError,
  ProposalDroppedError,
  ProposalRefusedError,
  ReplicaOverloadedError,
  ReplicaStoppedError,
  ReplicaTimeoutError,
} from '../replica/errors.js';
import { InvalidRequestError } from './request-error.js';

/** A failure that already carries its gRPC status (e.g. returned by the leader we forwarded to). */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export function statusOf(err: unknown): { code: status; details: string } {
  if (err instanceof StatusError) return { code: err.code, details: err.message };
  if (isServiceError(err)) return { code: err.code, details: err.details };
  if (err instanceof InvalidRequestError) return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof NotLeaderError) return { code: status.UNAVAILABLE, details: err.message };
  if (err instanceof ReplicaOverloadedError) return { code: status.RESOURCE_EXHAUSTED, details: err.message };
  if (err instanceof ProposalRefusedError) {
    const code = err.reason === 'tooManyUncommittedBytes' ? status.RESOURCE_EXHAUSTED : status.UNAVAILABLE;
    const hint = err.reason === 'invalidConfChange' ? status.FAILED_PRECONDITION : code;
    return { code: hint, details: err.message };
  }
  // Definitely not applied: safe to retry.
  if (err instanceof ProposalDroppedError) return { code: status.UNAVAILABLE, details: err.message };
  if (err instanceof ReplicaTimeoutError) return { code: status.DEADLINE_EXCEEDED, details: err.message };
  if (err instanceof ReplicaStoppedError) return { code: status.UNAVAILABLE, details: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: status.INTERNAL, details: message };
}

export function toServiceError(err: unknown): Partial<ServiceError> {
  const { code, details } = statusOf(err);
  return { code, details, metadata: new Metadata() };
}

export function isServiceError(err: unknown): err is ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<ServiceError>).code === 'number' &&
    typeof (err as Partial<ServiceError>).details === 'string'
  );
}
