// Raft paper Figure 3, Election Safety: at most one leader can be elected in a given term. The map term → leader is
// kept for the whole run, so two leaders of one term are caught even if their reigns never overlapped in time.
import type { NodeId } from '../../../src/raft/index.js';

export class ElectionSafetyChecker {
  private readonly leaders = new Map<number, NodeId>();

  /** `id` is leader in `term`; returns a violation message when another member already led that term. */
  observeLeader(term: number, id: NodeId): string | undefined {
    const known = this.leaders.get(term);
    if (known === undefined) {
      this.leaders.set(term, id);
      return undefined;
    }
    if (known === id) return undefined;
    return `election safety: ${known} and ${id} were both leader in term ${term}`;
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  termsWithLeader(): number {
    return this.leaders.size;
  }
}
