// The committed prefix as the members reported it, and the properties that protect it (Raft paper Figure 3):
// - State Machine Safety: if a member applied an entry at an index, no member ever applies a different entry there;
// - Leader Completeness / no committed entry lost: once any member applied an entry, every leader of a later term
//   holds it in its log (or covers it with its snapshot).
// Applied entries are the ground truth: a member applies only what it learned is committed.
import type { Entry, NodeId } from '../../../src/raft/index.js';
import { entryKey, showEntry } from './entry-key.js';

/** The part of a member's log a checker needs: the term at an index, or undefined when compacted or beyond. */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  termAt(index: number): number | undefined;
}

export class CommittedLogChecker {
  /** Dense by index; undefined for indexes only ever covered by snapshots. */
  private readonly terms: (number | undefined)[] = [];
  private readonly keys: (string | undefined)[] = [];
  private readonly by: (NodeId | undefined)[] = [];
  /**
   * An upper bound on the term in which each entry was committed: the smallest current term of a member that
   * applied it (a member learns of a commit only from a leader of its term or an earlier one). Leaders of that
   * term or later must hold the entry; an older, deposed leader may legitimately lack it.
   */
  private readonly bound: number[] = [];
  /** The highest index any member applied (or installed a snapshot at). */
  maxIndex = 0;

  /**
   * `node`, whose current term is `nodeTerm`, applied `entry`. isNew when no member had applied that index before.
   */
  observeApplied(node: NodeId, nodeTerm: number, entry: Entry): { violation?: string; isNew: boolean } {
    const key = entryKey(entry);
    const term = this.terms[entry.index];
    const bound = this.bound[entry.index];
    if (bound === undefined || nodeTerm < bound) this.bound[entry.index] = nodeTerm;
    if (term === undefined) {
      this.terms[entry.index] = entry.term;
      this.keys[entry.index] = key;
      this.by[entry.index] = node;
      if (entry.index > this.maxIndex) this.maxIndex = entry.index;
      return { isNew: true };
    }
    const knownKey = this.keys[entry.index];
    if (term !== entry.term || (knownKey !== undefined && knownKey !== key)) {
      return {
        isNew: false,
        violation:
          `state machine safety: ${this.by[entry.index]} applied ${showEntry(entry.index, term, knownKey ?? '?')} ` +
          `but ${node} applied ${showEntry(entry.index, entry.term, key)}`,
      };
    }
    if (knownKey === undefined) {
      this.keys[entry.index] = key;
      this.by[entry.index] = node;
    }
    return { isNew: false };
  }

  /** `node` installed a snapshot ending at (index, term): that entry is committed too. */
  observeSnapshot(node: NodeId, nodeTerm: number, index: number, term: number): string | undefined {
    const known = this.terms[index];
    const bound = this.bound[index];
    if (bound === undefined || nodeTerm < bound) this.bound[index] = nodeTerm;
    if (known === undefined) {
      this.terms[index] = term;
      this.by[index] = node;
      if (index > this.maxIndex) this.maxIndex = index;
      return undefined;
    }
    if (known !== term) {
      return `state machine safety: ${node} installed a snapshot at ${index}@${term} but ${this.by[index]} applied ${index}@${known}`;
    }
    return undefined;
  }

  /** The member that first reported the entry at `index` (applied it, or installed a snapshot ending there). */
  appliedBy(index: number): NodeId | undefined {
    return this.by[index];
  }

  /** The committed term at `index`, if known. */
  termAt(index: number): number | undefined {
    return this.terms[index];
  }

  /** The latest term in which the entry at `index` may have been committed. */
  commitTermBound(index: number): number {
    return this.bound[index] ?? Infinity;
  }

  /**
   * Leader completeness: `leader` (leading `term`) must hold every committed entry from `from` on. Entries its
   * snapshot covers are not visible any more except the last one, whose term is checked.
   */
  checkLeader(leader: NodeId, term: number, log: LogView, from = 1): string | undefined {
    const start = Math.max(from, log.firstIndex() - 1);
    for (let i = start; i <= this.maxIndex; i++) {
      const committedTerm = this.terms[i];
      if (committedTerm === undefined || this.bound[i]! > term) continue;
      const held = log.termAt(i);
      if (held === committedTerm) continue;
      const what =
        held === undefined ? `lacks it (log ends at ${log.lastIndex()})` : `holds ${i}@${held} instead`;
      return (
        `leader completeness: entry ${i}@${committedTerm} was applied by ${this.by[i]}, but ${leader}, leader of ` +
        `term ${term}, ${what}`
      );
    }
    return undefined;
  }
}
