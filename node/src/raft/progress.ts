// The leader's view of one follower's log (etcd-io/raft tracker/progress.go, Raft thesis §3.5 and §10.2):
// - probe: the leader does not know the follower's log; it sends one append at a time and waits;
// - replicate: the follower is in sync; appends are pipelined up to the in-flight bounds;
// - snapshot: the follower is behind the compaction point and is receiving a snapshot.
import { Inflights } from './inflights.js';
import type { ProgressState, ProgressStatus } from './types.js';

export class Progress {
  state: ProgressState = 'probe';
  /** Index of the highest entry known to be replicated (durably) on the follower. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Whether the follower was heard from since the last check-quorum round. */
  recentActive = false;
  /** Highest commit index sent to the follower in an append; it needs another append when commit moves past it. */
  sentCommit = 0;
  /** In snapshot state: check-quorum rounds without an answer (the snapshot may have been lost). */
  snapshotRounds = 0;
  /** In probe state: an append was sent and no response has come back yet. */
  probeSent = false;
  readonly inflights: Inflights;

  constructor(
    match: number,
    next: number,
    public isLearner: boolean,
    maxInflightMessages: number,
    maxInflightBytes: number,
  ) {
    this.match = match;
    this.next = next;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotRounds = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** A new term: nothing is known about the follower beyond `match`. */
  restart(match: number, next: number): void {
    this.resetState('probe');
    this.sentCommit = 0;
    this.match = match;
    this.next = next;
    this.recentActive = false;
  }

  becomeProbe(): void {
    // After a snapshot, resume after it: the follower will have at least the snapshot once it reports back.
    const next =
      this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.resetState('probe');
    this.next = next;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records an acknowledgement up to n; false when it is stale (already known). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * Handles a rejected append for index `rejected`; `matchHint` is the leader's estimate of the last index the
   * logs agree on. Returns false when the rejection is stale (an older message).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records that an append carrying `entries` entries up to `lastIndex` was sent. */
  sentEntries(entries: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  status(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
      pendingSnapshot: this.pendingSnapshot,
      inflight: this.inflights.count(),
    };
  }
}
