// The leader's bookkeeping of the configuration: who votes, who learns, and each member's progress
// (etcd-io/raft tracker/tracker.go). Votes of the current election live here too.
import { invariant } from './errors.js';
import { Progress } from './progress.js';
import { committedIndex, voteResult, type VoteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export class ProgressTracker {
  voters = new Set<NodeId>();
  learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(
    private readonly maxInflightMessages: number,
    private readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  /** Replaces the configuration (snapshot restore, restart); every progress starts over at `nextIndex`. */
  reset(confState: ConfState, nextIndex: number): void {
    this.voters = new Set(confState.voters);
    this.learners = new Set(confState.learners);
    for (const id of this.learners) invariant(!this.voters.has(id), () => `${id} is both voter and learner`);
    this.progress.clear();
    for (const id of [...this.voters, ...this.learners])
      this.addProgress(id, nextIndex, this.learners.has(id));
  }

  addProgress(id: NodeId, nextIndex: number, isLearner: boolean): void {
    const pr = new Progress(0, nextIndex, isLearner, this.maxInflightMessages, this.maxInflightBytes);
    // A newly added member counts as active so check-quorum does not fire before it had a chance to respond.
    pr.recentActive = true;
    this.progress.set(id, pr);
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id);
  }

  isMember(id: NodeId): boolean {
    return this.voters.has(id) || this.learners.has(id);
  }

  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** Check-quorum: did a majority of voters (counting ourselves) talk to us since the last round? */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      votes.set(id, id === self || (pr?.recentActive ?? false));
    }
    return voteResult(this.voters, votes) === 'won';
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return voteResult(this.voters, this.votes);
  }
}
