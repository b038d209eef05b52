// The stable part of the Raft log, held in memory (etcd-io/raft storage.go MemoryStorage). The host makes entries
// durable in its write-ahead log first; the core then appends them here on advance(). After a restart the host
// rebuilds this from the WAL. Entries before `firstIndex()` have been compacted into `snapshot`.
import { CompactedError, SnapshotOutOfDateError, UnavailableError, invariant } from './errors.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { NO_NODE } from './types.js';

const EMPTY_CONF: ConfState = { voters: [], learners: [] };

export class MemoryStorage {
  private hardState: HardState = { term: 0, vote: NO_NODE, commit: 0 };
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: EMPTY_CONF }, data: new Uint8Array() };
  /** The last compacted entry (index and term): the log starts right after it. Never after the snapshot. */
  private compactedIndex = 0;
  private compactedTerm = 0;
  /** ents[i] has index compactedIndex + 1 + i. */
  private ents: Entry[] = [];

  /**
   * A new cluster's initial state: every founding member starts from the same snapshot at index 1, term 1 that
   * holds the initial voters. A member joining later starts empty and receives the leader's snapshot, so the
   * membership is always learned from a snapshot or the log, never from flags.
   */
  static bootstrap(voters: readonly string[], data: Uint8Array = new Uint8Array()): MemoryStorage {
    invariant(voters.length > 0, () => 'bootstrap needs at least one voter');
    const storage = new MemoryStorage();
    storage.applySnapshot({
      metadata: { index: 1, term: 1, confState: { voters: [...voters].sort(), learners: [] } },
      data,
    });
    storage.setHardState({ term: 1, vote: NO_NODE, commit: 1 });
    return storage;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  firstIndex(): number {
    return this.compactedIndex + 1;
  }

  lastIndex(): number {
    return this.compactedIndex + this.ents.length;
  }

  /** Term of entry i; the last compacted index answers with its term. */
  term(i: number): number {
    if (i < this.compactedIndex)
      throw new CompactedError(`index ${i} is compacted (first index ${this.firstIndex()})`);
    if (i === this.compactedIndex) return this.compactedTerm;
    const entry = this.ents[i - this.compactedIndex - 1];
    if (entry === undefined)
      throw new UnavailableError(`index ${i} is beyond the last index ${this.lastIndex()}`);
    return entry.term;
  }

  /** Entries in [lo, hi), at least one if any, and at most maxBytes of data beyond the first. */
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.compactedIndex)
      throw new CompactedError(`index ${lo} is compacted (first index ${this.firstIndex()})`);
    invariant(
      hi <= this.lastIndex() + 1,
      () => `entries(${lo}, ${hi}) beyond last index ${this.lastIndex()}`,
    );
    return limitSize(this.ents.slice(lo - this.compactedIndex - 1, hi - this.compactedIndex - 1), maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot received from the leader (or read back from disk). */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index < this.snap.metadata.index) {
      throw new SnapshotOutOfDateError(
        `snapshot at ${snapshot.metadata.index} is older than the held one at ${this.snap.metadata.index}`,
      );
    }
    this.snap = snapshot;
    this.compactedIndex = snapshot.metadata.index;
    this.compactedTerm = snapshot.metadata.term;
    this.ents = [];
  }

  /** Records a snapshot of the state machine at `index` (≤ last index); the log itself is untouched. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new SnapshotOutOfDateError(`snapshot at ${index} is not newer than ${this.snap.metadata.index}`);
    }
    invariant(
      index <= this.lastIndex(),
      () => `snapshot index ${index} beyond last index ${this.lastIndex()}`,
    );
    this.snap = { metadata: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Drops entries up to and including `index`, which must be covered by the held snapshot. */
  compact(index: number): void {
    invariant(
      index <= this.snap.metadata.index,
      () => `compact(${index}) past the snapshot at ${this.snap.metadata.index}`,
    );
    if (index <= this.compactedIndex) return;
    const term = this.term(index);
    this.ents = this.ents.slice(index - this.compactedIndex);
    this.compactedIndex = index;
    this.compactedTerm = term;
  }

  /** Appends entries, replacing any conflicting suffix. Entries must be contiguous and follow the log. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    // Skip entries already compacted away; they are covered by the snapshot.
    const skip = Math.max(0, this.compactedIndex + 1 - entries[0]!.index);
    if (skip >= entries.length) return;
    const start = entries[skip]!.index;
    invariant(
      start <= this.lastIndex() + 1,
      () => `append at ${start} leaves a gap after ${this.lastIndex()}`,
    );
    // Truncate a conflicting suffix in place, then push: appending at the end is the hot path and stays O(batch).
    this.ents.length = start - this.compactedIndex - 1;
    for (let k = skip; k < entries.length; k++) this.ents.push(entries[k]!);
  }
}

/** Bytes an entry counts for against message and in-flight limits. */
export function entrySize(entry: Entry): number {
  return entry.data.byteLength + 24;
}

export function limitSize<T extends Entry>(entries: T[], maxBytes: number): T[] {
  if (entries.length <= 1) return entries;
  let size = entrySize(entries[0]!);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySize(entries[n]!);
    if (size > maxBytes) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}
