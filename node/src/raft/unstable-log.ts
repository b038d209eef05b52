// Entries and an incoming snapshot that the host has not yet made durable (etcd-io/raft log_unstable.go).
// `offset` is the index of entries[0]. Once the host persists them, stableTo() hands them over to MemoryStorage.
import { invariant } from './errors.js';
import type { Entry, Snapshot } from './types.js';

export class UnstableLog {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.metadata.index;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      return this.snapshot && this.snapshot.metadata.index === i ? this.snapshot.metadata.term : undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]?.term;
  }

  /** The host persisted entries up to (index, term); drop them here unless they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index);
    if (t === undefined || t !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const after = entries[0]!.index;
    if (after === this.offset + this.entries.length) {
      this.entries.push(...entries);
    } else if (after <= this.offset) {
      // Replaces entries that may already be stable: the host overwrites them in its log on persist.
      this.offset = after;
      this.entries = [...entries];
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
    }
    invariant(
      this.entries.every((e, i) => e.index === this.offset + i),
      () => 'unstable log: entries are not contiguous',
    );
  }

  slice(lo: number, hi: number): Entry[] {
    invariant(
      lo >= this.offset && hi <= this.offset + this.entries.length,
      () => `unstable slice [${lo},${hi}) out of bounds`,
    );
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
