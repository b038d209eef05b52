// Raft paper §5.2 and Figure 2: "each server will vote for at most one candidate in a given term", and votedFor is
// persistent state "updated on stable storage before responding to RPCs". Election Safety rests on it. Only votes
// that others can see are counted: a vote grant handed to the network, and a vote request (the candidate's vote for
// itself). A vote set in memory and lost in a crash before anyone heard of it may legitimately be cast again; a vote
// someone heard of may not, even after a crash, which is exactly what a host that sends before its fsync breaks.
// Catching the second vote directly does not depend on the second candidate also winning.
import type { Message, NodeId } from '../../../src/raft/index.js';

export class VoteSafetyChecker {
  /** `voter@term` → the candidate it voted for. */
  private readonly votes = new Map<string, NodeId>();

  /** `m` left its sender for the network; returns a violation message when it casts a second vote in a term. */
  observeSent(m: Message): string | undefined {
    if (m.type === 'voteResp' && !m.reject) return this.observeVote(m.from, m.term, m.to);
    if (m.type === 'vote') return this.observeVote(m.from, m.term, m.from);
    return undefined;
  }

  observeVote(voter: NodeId, term: number, candidate: NodeId): string | undefined {
    const key = `${voter}@${term}`;
    const known = this.votes.get(key);
    if (known === undefined) {
      this.votes.set(key, candidate);
      return undefined;
    }
    if (known === candidate) return undefined;
    return `vote safety: ${voter} voted for ${known} in term ${term}, then for ${candidate} in the same term`;
  }

  size(): number {
    return this.votes.size;
  }
}
