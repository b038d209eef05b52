// Per-member monotonicity (Raft paper Figure 2): currentTerm only grows, and so does commitIndex. Within one
// incarnation both are checked after every step. Across a crash the volatile commit index may go back (it is
// written without its own fsync), but the term may not go below the last one the member durably synced: votes
// and acknowledgements were promised in that term.
import type { NodeId } from '../../../src/raft/index.js';

export class MonotonicChecker {
  private readonly last = new Map<NodeId, { incarnation: number; term: number; commit: number }>();
  private readonly durableTerm = new Map<NodeId, number>();

  observe(id: NodeId, incarnation: number, term: number, commit: number): string | undefined {
    const prev = this.last.get(id);
    this.last.set(id, { incarnation, term, commit });
    if (prev === undefined || prev.incarnation !== incarnation) return undefined;
    if (term < prev.term) return `term decreased on ${id}: ${prev.term} → ${term}`;
    if (commit < prev.commit) return `commit decreased on ${id}: ${prev.commit} → ${commit}`;
    return undefined;
  }

  /** The member fsynced a hard state with this term. */
  observeSynced(id: NodeId, term: number): void {
    if (term > (this.durableTerm.get(id) ?? 0)) this.durableTerm.set(id, term);
  }

  /** The member restarted with this term. */
  observeRestart(id: NodeId, term: number): string | undefined {
    const durable = this.durableTerm.get(id) ?? 0;
    if (term < durable)
      return `term went back on restart of ${id}: synced ${durable}, restarted with ${term}`;
    return undefined;
  }
}
