// Errors raised by the Raft core. An invariant violation is a bug and stops the member (TigerBeetle style: assertions
// stay on in production, because continuing with a broken invariant can lose acknowledged data).

export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

export class RaftConfigError extends Error {
  override readonly name = 'RaftConfigError';
}

/** Asked for log entries that were compacted into a snapshot. */
export class CompactedError extends Error {
  override readonly name = 'CompactedError';
}

/** Asked for log entries beyond the last index. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}

/** Asked to build a snapshot older than the one already held. */
export class SnapshotOutOfDateError extends Error {
  override readonly name = 'SnapshotOutOfDateError';
}

export function invariant(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new RaftInvariantError(message());
}
