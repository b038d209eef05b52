// Recovery from permanent quorum loss, keeping this member's data (etcd's --force-new-cluster). Pure: given what the
// member recovered from disk, decides the log and hard state it restarts from as the only voter of its group.
//
// - Everything up to the commit index is kept: it was committed by the old quorum, so acknowledged writes survive.
// - Everything after it is discarded: those entries were never committed and a new leader may have overwritten them.
// - At commit+1, commit+2, ... one `remove` conf change per other voter and per learner of the configuration as of
//   the commit index, at the current term, encoded as the replica encodes proposed conf changes; the new commit index
//   is the last of them. The core then refuses to campaign until they are applied (hasUnappliedConfChanges), the
//   replica applies them, and the one voter left elects itself.
// Running it again on its own result changes nothing (one voter, nothing after commit): a crash between persisting
// the plan and deleting the marker is harmless.
import { applyConfChange, decodeConfChange, encodeConfChange } from '../raft/conf-change.js';
import type { ConfState, Entry, HardState, NodeId, SnapshotMetadata } from '../raft/types.js';

/** A force-new-cluster that cannot be carried out; the message says why and what to do. */
export class ForceNewClusterError extends Error {
  override readonly name = 'ForceNewClusterError';
}

export interface ForceNewClusterInput {
  /** The snapshot the log continues from (index 0, term 0 and the empty configuration when there is none). */
  readonly snapshot: SnapshotMetadata;
  /** The entries after the snapshot, contiguous from snapshot.index + 1. */
  readonly entries: readonly Entry[];
  /** The last durable hard state; its commit is at least the snapshot index. */
  readonly hardState: HardState;
  readonly self: NodeId;
}

export interface ForceNewClusterPlan {
  /** The commit index before: entries up to it are kept. */
  readonly commit: number;
  /** The last index and its term before: what the member had, committed or not. */
  readonly lastIndex: number;
  readonly lastLogTerm: number;
  /** Uncommitted entries dropped (lastIndex - commit). */
  readonly discarded: number;
  /** The configuration as of the commit index. */
  readonly confAtCommit: ConfState;
  /** Members removed, voters first then learners, in the order of the appended entries. */
  readonly removed: readonly NodeId[];
  /** The remove conf changes appended at commit+1 ... */
  readonly appended: readonly Entry[];
  /** The log after the snapshot to restart from: the kept entries, then `appended`. */
  readonly entries: readonly Entry[];
  /** The hard state to restart from: same term and vote, commit at the last appended entry. */
  readonly hardState: HardState;
  /**
   * What to write to the WAL so that its replay yields `entries` (an entry at index i replaces every entry >= i):
   * `appended`, or, when nothing is appended but entries are discarded, the entry at the commit index again.
   * Empty when the log on disk is already right.
   */
  readonly walEntries: readonly Entry[];
  /**
   * The discarded suffix starts right after the snapshot and there is no entry to rewrite: the snapshot marker must
   * be written again so replay restarts the log after it.
   */
  readonly rewriteSnapshotMarker: boolean;
}

/** The configuration as of `index`: the snapshot's, then every conf change in the log up to it, in order. */
export function confStateAt(snapshot: SnapshotMetadata, entries: readonly Entry[], index: number): ConfState {
  let conf = snapshot.confState;
  for (const e of entries) {
    if (e.index > index) break;
    if (e.type === 'confChange') conf = applyConfChange(conf, decodeConfChange(e.data));
  }
  return conf;
}

export function planForceNewCluster(input: ForceNewClusterInput): ForceNewClusterPlan {
  const { snapshot, entries, hardState, self } = input;
  entries.forEach((e, i) => {
    if (e.index !== snapshot.index + 1 + i) {
      throw new ForceNewClusterError(
        `the log is not contiguous after the snapshot at ${snapshot.index}: entry ${i} has index ${e.index}`,
      );
    }
  });
  const last = entries[entries.length - 1];
  const lastIndex = last?.index ?? snapshot.index;
  const lastLogTerm = last?.term ?? snapshot.term;
  const commit = hardState.commit;
  if (commit < snapshot.index || commit > lastIndex) {
    throw new ForceNewClusterError(
      `the commit index ${commit} lies outside the log [${snapshot.index}, ${lastIndex}]; the data directory is inconsistent`,
    );
  }
  if (hardState.term < lastLogTerm) {
    throw new ForceNewClusterError(
      `the current term ${hardState.term} is below the last log term ${lastLogTerm}; the data directory is inconsistent`,
    );
  }
  const confAtCommit = confStateAt(snapshot, entries, commit);
  if (!confAtCommit.voters.includes(self)) {
    throw new ForceNewClusterError(
      `${self} is not a voter in the configuration at commit index ${commit} (voters ${list(confAtCommit.voters)}, learners ${list(confAtCommit.learners)}): only a voter may become the one voter of a new cluster`,
    );
  }

  const removed = [...confAtCommit.voters.filter((id) => id !== self), ...confAtCommit.learners];
  const appended: Entry[] = removed.map((nodeId, i) => ({
    term: hardState.term,
    index: commit + 1 + i,
    type: 'confChange',
    data: encodeConfChange({ type: 'remove', nodeId }),
  }));
  const kept = entries.slice(0, commit - snapshot.index);
  const discarded = lastIndex - commit;
  const commitEntry = kept[kept.length - 1];
  const walEntries = appended.length > 0 ? appended : discarded > 0 && commitEntry ? [commitEntry] : [];
  return {
    commit,
    lastIndex,
    lastLogTerm,
    discarded,
    confAtCommit,
    removed,
    appended,
    entries: [...kept, ...appended],
    hardState: { ...hardState, commit: commit + appended.length },
    walEntries,
    rewriteSnapshotMarker: discarded > 0 && walEntries.length === 0,
  };
}

function list(ids: readonly NodeId[]): string {
  return ids.length === 0 ? 'none' : ids.join(', ');
}
