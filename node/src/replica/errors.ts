// Errors the replica gives its callers (the gRPC services map each to one status code).
import type { NodeId, ProposalRejection } from '../raft/types.js';

/** This member is not the leader; `leader` is the one it knows of (empty when none): retry there. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  constructor(
    readonly leader: NodeId,
    message = leader ? `not the leader; the leader is ${leader}` : 'not the leader and no leader is known',
  ) {
    super(message);
  }
}

/** The core refused the proposal; nothing was appended, so a retry is safe. */
export class ProposalRefusedError extends Error {
  override readonly name = 'ProposalRefusedError';
  constructor(readonly reason: ProposalRejection) {
    super(`proposal refused: ${reason}`);
  }
}

/** The proposal's log entry was replaced by another leader's: it was definitely not applied. */
export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError';
  constructor(index: number, term: number) {
    super(`the entry at index ${index} of term ${term} was overwritten by a new leader; it was not applied`);
  }
}

/** No answer within the bound. For a write the outcome is unknown (it may still apply). */
export class ReplicaTimeoutError extends Error {
  override readonly name = 'ReplicaTimeoutError';
}

/** A leadership transfer ended without the target taking over; this member still leads. */
export class TransferFailedError extends Error {
  override readonly name = 'TransferFailedError';
  constructor(
    readonly target: NodeId,
    why: string,
  ) {
    super(`leadership transfer to ${target} failed: ${why}`);
  }
}

/** The inbox is over its bound: the caller should back off. */
export class ReplicaOverloadedError extends Error {
  override readonly name = 'ReplicaOverloadedError';
}

/** The replica is stopping or stopped. */
export class ReplicaStoppedError extends Error {
  override readonly name = 'ReplicaStoppedError';
  constructor(message = 'the replica is shutting down') {
    super(message);
  }
}
