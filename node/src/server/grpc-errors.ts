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
import { SHARD_UNREACHABLE_HEADER, unreachableShardOf } from '../../shared/client/shard-unreachable.js';
import { SLOT_REDIRECT_HEADER, slotRedirectOf } from '../../shared/client/slot-redirect.js';
import type { SlotRedirect } from '../sharding/slot-ownership.js';
import { InvalidRequestError } from './request-error.js';

/**
 * Trailing metadata of a failure that certainly did not apply the write (refused before it was proposed, or
 * overwritten): retrying it is safe even without a session. A member that forwarded a write may then retry it.
 */
export const NOT_APPLIED_HEADER = 'x-raftstore-not-applied';

/** A failure that already carries its gRPC status (e.g. returned by the leader we forwarded to). */
export class StatusError extends Error {
  override readonly name: string = 'StatusError';
  constructor(
    readonly code: status,
    message: string,
    /** The request was refused before anything was proposed. */
    readonly notApplied = false,
  ) {
    super(message);
  }
}

/** A request refused because its key's slot is served by another group, or is moving: nothing was applied. */
export class WrongShardError extends StatusError {
  constructor(
    readonly redirect: SlotRedirect,
    shard: number,
  ) {
    const owner = redirect.owner === undefined ? 'another shard' : `shard ${redirect.owner}`;
    super(
      redirect.moving ? status.UNAVAILABLE : status.FAILED_PRECONDITION,
      redirect.moving
        ? `slot ${redirect.slot} is moving between shard ${shard} and ${owner} (epoch ${redirect.epoch}); retry shortly`
        : `slot ${redirect.slot} is not served by shard ${shard}; ${owner} serves it (epoch ${redirect.epoch})`,
      true,
    );
  }
}

/** No member of `shard` could be reached: the request was sent nowhere (see shard-unreachable.ts). */
export class ShardUnreachableError extends StatusError {
  override readonly name = 'ShardUnreachableError';
  constructor(
    readonly shard: number,
    message: string,
  ) {
    super(status.UNAVAILABLE, message, true);
  }
}

/**
 * Whether `err` is a wrong-shard refusal, here or from the member a request was forwarded to: the same request
 * meets the same answer until the slot map changes, so it is for the client to re-route, never for this member
 * to retry as it retries a write that met a leadership change.
 */
export function isWrongShard(err: unknown): boolean {
  if (err instanceof WrongShardError) return true;
  return isServiceError(err) && err.metadata?.get(SLOT_REDIRECT_HEADER).length > 0;
}

/** The redirect a wrong-shard refusal carries (here, or in the trailer of a member forwarded to). */
export function redirectOf(err: unknown): SlotRedirect | undefined {
  if (err instanceof WrongShardError) return err.redirect;
  if (!isServiceError(err)) return undefined;
  return slotRedirectOf(err);
}

/** Whether `err` proves the write was not applied (see NOT_APPLIED_HEADER). */
export function isNotApplied(err: unknown): boolean {
  if (err instanceof StatusError) return err.notApplied;
  if (isServiceError(err)) return err.metadata?.get(NOT_APPLIED_HEADER).length > 0;
  return (
    err instanceof NotLeaderError ||
    err instanceof ProposalRefusedError ||
    err instanceof ProposalDroppedError
  );
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
  const metadata = new Metadata();
  if (isNotApplied(err)) metadata.set(NOT_APPLIED_HEADER, '1');
  if (err instanceof WrongShardError) metadata.set(SLOT_REDIRECT_HEADER, JSON.stringify(err.redirect));
  // A refusal from the member this one forwarded to keeps its redirect on the way back to the client.
  const forwarded = isServiceError(err) ? err.metadata?.get(SLOT_REDIRECT_HEADER) : undefined;
  if (forwarded !== undefined && forwarded.length > 0)
    metadata.set(SLOT_REDIRECT_HEADER, String(forwarded[0]));
  const unreachable = err instanceof ShardUnreachableError ? err.shard : unreachableShardOf(err);
  if (unreachable !== undefined) metadata.set(SHARD_UNREACHABLE_HEADER, String(unreachable));
  return { code, details, metadata };
}

export function isServiceError(err: unknown): err is ServiceError {
  return (
    err instanceof Error &&
    typeof (err as Partial<ServiceError>).code === 'number' &&
    typeof (err as Partial<ServiceError>).details === 'string'
  );
}
