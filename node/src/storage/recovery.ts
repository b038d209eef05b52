// Combines the replayed WAL with the chosen snapshot into the state the node restarts from. Pure and synchronous.
// Raft's own rule for installing a snapshot applies: if the log holds the snapshot's (index, term), the entries after
// it are kept; otherwise the snapshot supersedes the whole log. What must never happen is a hole between the
// snapshot and the first WAL entry: that would silently lose committed entries, so it is an error.

import type { Entry, HardState } from '../raft/types.js';
import { RecoveryGapError } from './errors.js';
import type { ReplayedLog } from './log-replay.js';

export interface SnapshotPoint {
  readonly index: number;
  readonly term: number;
}

export interface ReconciledLog {
  /** With `commit` raised to at least the snapshot index: a snapshot only ever holds committed entries. */
  readonly hardState?: HardState;
  /** The entries after the snapshot index, contiguous. */
  readonly entries: readonly Entry[];
  /**
   * True when the WAL does not already continue from the snapshot (it ends before it, or diverges from it): a
   * snapshot marker must be appended before new entries, or the next entry would look like a hole on replay.
   */
  readonly needsSnapshotMarker: boolean;
}

/**
 * Returns the entries after `snapshot` (index 0 / term 0 when there is none), or throws RecoveryGapError when the
 * WAL does not reach back to the snapshot.
 */
export function reconcile(log: ReplayedLog, snapshot: SnapshotPoint): ReconciledLog {
  const hardState =
    log.hardState && log.hardState.commit < snapshot.index
      ? { ...log.hardState, commit: snapshot.index }
      : log.hardState;
  const result = (entries: readonly Entry[], needsSnapshotMarker: boolean): ReconciledLog =>
    hardState ? { hardState, entries, needsSnapshotMarker } : { entries, needsSnapshotMarker };

  if (log.firstIndex === undefined) return result([], snapshot.index > 0);
  if (log.firstIndex > snapshot.index + 1) {
    throw new RecoveryGapError(
      `the WAL starts at index ${log.firstIndex} but the snapshot ends at index ${snapshot.index}: ` +
        `entries ${snapshot.index + 1}..${log.firstIndex - 1} are missing`,
    );
  }
  // The WAL continues right after the snapshot (e.g. after compaction, or after the snapshot's own marker).
  if (snapshot.index === log.firstIndex - 1) return result(log.entries, false);
  const atSnapshot = log.entries[snapshot.index - log.firstIndex];
  if (atSnapshot?.term !== snapshot.term) {
    // The log ends before the snapshot, or diverged from it (e.g. a crash after a leader's snapshot was saved but
    // before its WAL marker): the snapshot is committed state, the diverging suffix was not.
    return result([], true);
  }
  return result(log.entries.slice(snapshot.index - log.firstIndex + 1), false);
}
