// Majority quorum arithmetic (etcd-io/raft quorum/majority.go). Pure functions over a voter set.
import type { NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/** How many voters form a majority. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest index acknowledged by a majority of voters: the commit point the leader may use (subject to the
 * current-term rule). `acked` returns the index a voter has durably matched.
 */
export function committedIndex(voters: ReadonlySet<NodeId>, acked: (id: NodeId) => number): number {
  if (voters.size === 0) return 0;
  const matches: number[] = [];
  for (const id of voters) matches.push(acked(id));
  matches.sort((a, b) => b - a);
  return matches[majority(voters.size) - 1]!;
}

/** The outcome of an election (or of any round that needs a majority of yes votes) so far. */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.size);
  if (granted >= needed) return 'won';
  if (voters.size - rejected < needed) return 'lost';
  return 'pending';
}
