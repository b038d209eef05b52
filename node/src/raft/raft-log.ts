// The Raft log as the core sees it: the stable part in MemoryStorage plus the unstable tail, with the commit and
// apply points (etcd-io/raft log.go). Terms are looked up through here so the two parts never disagree.
import { CompactedError, UnavailableError, invariant } from './errors.js';
import { limitSize, type MemoryStorage } from './memory-storage.js';
import { UnstableLog } from './unstable-log.js';
import type { Entry, Snapshot } from './types.js';

export class RaftLog {
  readonly unstable: UnstableLog;
  /** Highest index known to be committed (stored on a quorum). */
  committed: number;
  /** Highest index the host has applied to its state machine. */
  applied: number;

  constructor(readonly storage: MemoryStorage) {
    const first = storage.firstIndex();
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The term of entry i. Throws CompactedError / UnavailableError outside [firstIndex-1, lastIndex]. */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new CompactedError(`index ${i} is compacted (first index ${dummy + 1})`);
    if (i > this.lastIndex())
      throw new UnavailableError(`index ${i} is beyond the last index ${this.lastIndex()}`);
    return this.unstable.maybeTerm(i) ?? this.storage.term(i);
  }

  /** The term of entry i, or undefined when it is compacted or beyond the log. */
  termOrUndefined(i: number): number | undefined {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    return this.term(i);
  }

  matchTerm(i: number, term: number): boolean {
    return this.termOrUndefined(i) === term;
  }

  /** Raft paper §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries: if our log matches (index, logTerm), append `entries` (dropping any
   * conflicting suffix) and advance the commit index. Returns the index of the last new entry, or undefined
   * when the consistency check fails.
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    entries: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      invariant(
        conflict > this.committed,
        () => `entry ${conflict} conflicts with committed entry ${this.committed}`,
      );
      this.append(entries.slice(conflict - index - 1));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    invariant(
      after >= this.committed,
      () => `append after ${after} would overwrite committed ${this.committed}`,
    );
    invariant(
      after <= this.lastIndex(),
      () => `append after ${after} leaves a gap after ${this.lastIndex()}`,
    );
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** The index of the first entry whose term differs from ours (or that we lack); 0 when all match. */
  private findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking (Raft paper §5.3, etcd's findConflictByTerm): the largest index ≤ `index` whose term is ≤
   * `term`. Both sides use it to skip a whole term of mismatching entries per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= this.firstIndex() - 1; i--) {
      const t = this.termOrUndefined(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** Committed entries not yet handed to the host for applying. */
  nextCommittedEntries(maxBytes: number): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** Entries in [lo, hi) with at most maxBytes beyond the first. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) throw new CompactedError(`index ${lo} is compacted`);
    invariant(hi <= this.lastIndex() + 1, () => `slice [${lo},${hi}) beyond last index ${this.lastIndex()}`);
    let out: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      out = this.storage.entries(lo, Math.min(hi, offset), maxBytes);
      // Storage stopped early because of the size limit: do not add unstable entries after a gap.
      if (out.length < Math.min(hi, offset) - lo) return out;
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi);
      out = out.length > 0 ? out.concat(tail) : tail;
    }
    return limitSize(out, maxBytes);
  }

  maybeCommit(maxIndex: number, term: number): boolean {
    // Figure 8: only an entry of the current term is committed by counting replicas.
    if (maxIndex > this.committed && this.termOrUndefined(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return; // commit never decreases
    invariant(
      index <= this.lastIndex(),
      () => `commit ${index} is beyond the last index ${this.lastIndex()}`,
    );
    this.committed = index;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    invariant(
      index <= this.committed && index >= this.applied,
      () => `applied ${index} out of range [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Installs a snapshot received from the leader: the whole log is replaced. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** The last index whose entry is durable on this member (used for the leader's own acknowledgement). */
  lastPersistedIndex(): number {
    if (this.unstable.snapshot) return 0;
    if (this.unstable.entries.length > 0) return Math.min(this.unstable.offset - 1, this.storage.lastIndex());
    return this.lastIndex();
  }
}
