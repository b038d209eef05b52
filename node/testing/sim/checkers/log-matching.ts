// Raft paper Figure 3, Log Matching: if two logs contain an entry with the same index and term, the logs are
// identical in all entries up to that index. Checked incrementally: every entry that enters any member's log is
// recorded by (index, term) with its payload and the term of the entry before it. Two logs that agree on (index,
// term) must then agree on the payload and on the previous entry's term, and by induction on the whole prefix.
import type { Entry, NodeId } from '../../../src/raft/index.js';
import { entryKey, showEntry } from './entry-key.js';

interface Seen {
  readonly key: string;
  /** Term of entry index-1 in the log that held this entry; undefined when it was compacted there. */
  prevTerm: number | undefined;
  readonly by: NodeId;
}

export class LogMatchingChecker {
  private readonly seen = new Map<string, Seen>();

  /**
   * `entries` were just appended to `node`'s log; `prevTerm` is the term its log holds just before the first of
   * them (undefined when compacted). Returns a violation message or undefined.
   */
  observeAppend(node: NodeId, entries: readonly Entry[], prevTerm: number | undefined): string | undefined {
    let before = prevTerm;
    for (const e of entries) {
      const id = `${e.index}@${e.term}`;
      const key = entryKey(e);
      const known = this.seen.get(id);
      if (known === undefined) {
        this.seen.set(id, { key, prevTerm: before, by: node });
      } else {
        if (known.key !== key) {
          return (
            `log matching: entry ${id} differs between ${known.by} (${showEntry(e.index, e.term, known.key)}) ` +
            `and ${node} (${showEntry(e.index, e.term, key)})`
          );
        }
        if (known.prevTerm === undefined) known.prevTerm = before;
        else if (before !== undefined && known.prevTerm !== before) {
          return (
            `log matching: entry ${id} follows an entry of term ${known.prevTerm} on ${known.by} but of term ` +
            `${before} on ${node}`
          );
        }
      }
      before = e.term;
    }
    return undefined;
  }

  size(): number {
    return this.seen.size;
  }
}
