// A member's simulated disk. Writes land in a volatile queue first; sync() makes them durable. A crash keeps the
// durable state plus any prefix of the unsynced writes (chosen by the seed): a write may have reached the platter or
// not, but the disk never reorders writes. Each record is atomic (one entry, one hard state, one snapshot), so a
// torn multi-entry append shows up as a shorter log.
import type { Entry, HardState, Snapshot } from '../../src/raft/index.js';
import type { Prng } from '../../src/random/prng.js';

export type DiskRecord =
  | { readonly kind: 'installSnapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState };

/** What survives a crash: the restart point of a member. */
export interface DurableState {
  /** Undefined until the member has a snapshot (a member added later starts with nothing). */
  readonly snapshot: Snapshot | undefined;
  /** Entries after the snapshot, contiguous. */
  readonly entries: readonly Entry[];
  readonly hardState: HardState | undefined;
}

/** Bound on unsynced records; a real OS flushes its page cache long before this. */
const MAX_UNSYNCED_RECORDS = 4096;

export class DiskError extends Error {
  override readonly name = 'DiskError';
}

export class SimDisk {
  private snapshot: Snapshot | undefined;
  private entries: Entry[] = [];
  private hardState: HardState | undefined;
  private unsynced: DiskRecord[] = [];
  /** Counters for the trace and the tests. */
  syncs = 0;

  constructor(initial?: DurableState) {
    if (initial) {
      this.snapshot = initial.snapshot;
      this.entries = [...initial.entries];
      this.hardState = initial.hardState;
    }
  }

  write(record: DiskRecord): void {
    this.unsynced.push(record);
    if (this.unsynced.length > MAX_UNSYNCED_RECORDS) this.sync();
  }

  unsyncedCount(): number {
    return this.unsynced.length;
  }

  sync(): void {
    for (const r of this.unsynced) this.applyRecord(r);
    this.unsynced = [];
    this.syncs++;
  }

  /**
   * Records a snapshot the host took of its own state machine and drops the log up to it. Like a snapshot file
   * written, fsynced and renamed into place, it is durable at once; earlier writes are synced first so the disk
   * never holds a later write without an earlier one.
   */
  compact(snapshot: Snapshot): void {
    this.sync();
    const index = snapshot.metadata.index;
    if (this.snapshot && index <= this.snapshot.metadata.index) return;
    const base = this.snapshot?.metadata.index ?? 0;
    const last = base + this.entries.length;
    if (index > last) throw new DiskError(`compaction at ${index} beyond the durable log end ${last}`);
    this.entries = this.entries.slice(index - base);
    this.snapshot = snapshot;
  }

  /** The crash: unsynced writes beyond a prefix of length `keep` are lost. Returns how many were lost. */
  crash(rng: Prng): { kept: number; lost: number } {
    const keep = rng.int(0, this.unsynced.length);
    const lost = this.unsynced.length - keep;
    for (const r of this.unsynced.slice(0, keep)) this.applyRecord(r);
    this.unsynced = [];
    return { kept: keep, lost };
  }

  durable(): DurableState {
    return { snapshot: this.snapshot, entries: this.entries.slice(), hardState: this.hardState };
  }

  /** The durable log as the checkers see it (index 0 has term 0 on a disk that has nothing yet). */
  durableFirstIndex(): number {
    return (this.snapshot?.metadata.index ?? 0) + 1;
  }

  durableLastIndex(): number {
    return (this.snapshot?.metadata.index ?? 0) + this.entries.length;
  }

  /** The durable term at `index`: undefined when compacted away or beyond the durable log. */
  durableTermAt(index: number): number | undefined {
    const base = this.snapshot?.metadata.index ?? 0;
    if (index === base) return this.snapshot?.metadata.term ?? 0;
    if (index < base || index > base + this.entries.length) return undefined;
    return this.entries[index - base - 1]!.term;
  }

  /** The durable state, as far as a checker needs it without copying. */
  durableHardState(): HardState | undefined {
    return this.hardState;
  }

  private applyRecord(r: DiskRecord): void {
    switch (r.kind) {
      case 'installSnapshot':
        this.snapshot = r.snapshot;
        this.entries = [];
        return;
      case 'hardState':
        this.hardState = r.hardState;
        return;
      case 'entry': {
        const base = this.snapshot?.metadata.index ?? 0;
        const at = r.entry.index - base - 1;
        if (at < 0) return; // covered by the snapshot already
        if (at > this.entries.length) {
          throw new DiskError(
            `entry ${r.entry.index} written after a gap (durable log ends at ${base + this.entries.length})`,
          );
        }
        // An entry overwrites the conflicting suffix, as the WAL's replay does.
        if (at < this.entries.length) this.entries.length = at;
        this.entries.push(r.entry);
        return;
      }
    }
  }
}
