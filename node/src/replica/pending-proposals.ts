// Proposals waiting for their entry to be applied, keyed by log index. An entry applied at that index with the same
// term is ours; a different term means ours was overwritten and will never apply (Log Matching). Pure bookkeeping.
import type { Entry } from '../raft/types.js';

export interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

interface Pending<T> {
  readonly term: number;
  readonly waiter: Waiter<T>;
}

export class PendingProposals<T> {
  private readonly byIndex = new Map<number, Pending<T>>();

  get size(): number {
    return this.byIndex.size;
  }

  /**
   * Registers a proposal at `index` in `term`. A leader re-elected after losing its uncommitted tail proposes at
   * indices it used before: a waiter left there from an earlier term can never apply (the entry at that index is now
   * this term's, and a committed entry would be in the new leader's log), so it is rejected through `onOverwritten`.
   */
  add(
    index: number,
    term: number,
    waiter: Waiter<T>,
    onOverwritten: (waiter: Waiter<T>, term: number) => void,
  ): void {
    const earlier = this.byIndex.get(index);
    if (earlier !== undefined) {
      if (earlier.term >= term) {
        throw new Error(`two proposals at index ${index}: terms ${earlier.term} and ${term}`);
      }
      onOverwritten(earlier.waiter, earlier.term);
    }
    this.byIndex.set(index, { term, waiter });
  }

  /**
   * Called for every applied entry, in order. Returns the waiter whose proposal this entry is (undefined if none);
   * a waiter for the same index but another term is rejected through `onOverwritten`.
   */
  take(entry: Entry, onOverwritten: (waiter: Waiter<T>, term: number) => void): Waiter<T> | undefined {
    const pending = this.byIndex.get(entry.index);
    if (!pending) return undefined;
    this.byIndex.delete(entry.index);
    if (pending.term === entry.term) return pending.waiter;
    onOverwritten(pending.waiter, pending.term);
    return undefined;
  }

  /** A snapshot jumped the applied index: proposals at or below it can no longer be matched to an entry. */
  dropUpTo(index: number, onDropped: (waiter: Waiter<T>) => void): void {
    for (const [i, pending] of this.byIndex) {
      if (i <= index) {
        this.byIndex.delete(i);
        onDropped(pending.waiter);
      }
    }
  }

  rejectAll(error: Error): void {
    for (const pending of this.byIndex.values()) pending.waiter.reject(error);
    this.byIndex.clear();
  }
}
