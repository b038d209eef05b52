// Rebuilds the log from WAL records in write order. Pure and synchronous: the WAL reads files, this applies rules.
// The rules mirror what the Raft core did when it produced the records:
// - an entry at index i replaces every entry >= i (a new leader overwriting an uncommitted suffix), and must not
//   leave a hole (i <= last + 1); it may lie below the first entry read when compaction removed older segments;
// - a snapshot marker replaces the whole log: the next entry is snapshot index + 1;
// - the last hard state wins.

import type { Entry, HardState } from '../raft/types.js';
import type { WalRecord } from './wal-record.js';

/** Where a record came from, so a rule violation can be reported against a file and byte offset. */
export interface RecordPosition {
  readonly file: string;
  readonly offset: number;
}

/** Raised by replay when records contradict the log rules; the WAL turns it into a WalCorruptionError. */
export class ReplayRuleError extends Error {
  override readonly name = 'ReplayRuleError';
  constructor(
    readonly position: RecordPosition,
    message: string,
  ) {
    super(message);
  }
}

export interface ReplayedLog {
  readonly hardState?: HardState;
  /**
   * Index of `entries[0]` (or the index the next entry would take when `entries` is empty after a snapshot marker).
   * Undefined when the WAL holds no entry and no marker.
   */
  readonly firstIndex?: number;
  readonly entries: readonly Entry[];
  /** The last snapshot marker seen: the log before it was replaced by that snapshot. */
  readonly snapshotMarker?: { readonly index: number; readonly term: number };
}

export class LogReplay {
  private hardState: HardState | undefined;
  private firstIndex: number | undefined;
  private entries: Entry[] = [];
  private marker: { index: number; term: number } | undefined;

  apply(record: WalRecord, at: RecordPosition): void {
    switch (record.kind) {
      case 'hardState':
        this.hardState = record.hardState;
        return;
      case 'snapshot':
        if (this.marker && record.index < this.marker.index) {
          throw new ReplayRuleError(
            at,
            `snapshot marker at index ${record.index} is older than the earlier marker at ${this.marker.index}`,
          );
        }
        this.marker = { index: record.index, term: record.term };
        this.entries = [];
        this.firstIndex = record.index + 1;
        return;
      case 'entry':
        this.applyEntry(record.entry, at);
        return;
    }
  }

  private applyEntry(entry: Entry, at: RecordPosition): void {
    if (entry.index < 1) throw new ReplayRuleError(at, `entry index ${entry.index} is below 1`);
    if (this.firstIndex === undefined) {
      this.firstIndex = entry.index;
      this.entries.push(entry);
      return;
    }
    const next = this.firstIndex + this.entries.length;
    if (entry.index > next) {
      throw new ReplayRuleError(at, `entry ${entry.index} leaves a hole after the last entry ${next - 1}`);
    }
    if (entry.index < this.firstIndex) {
      if (this.marker && entry.index <= this.marker.index) {
        // Rewriting what a snapshot replaced means rewriting committed data: the core never does that.
        throw new ReplayRuleError(
          at,
          `entry ${entry.index} overwrites the snapshot at index ${this.marker.index}`,
        );
      }
      // The first retained segment started above an entry that a later append overwrote (compaction deleted the
      // segment holding the older entries). Everything >= entry.index is replaced, so the log restarts here; a
      // snapshot must cover what lies below, which reconcile() checks.
      this.firstIndex = entry.index;
      this.entries = [entry];
      return;
    }
    if (entry.index < next) this.entries.length = entry.index - this.firstIndex;
    const previous = this.entries[this.entries.length - 1];
    if (previous && entry.term < previous.term) {
      throw new ReplayRuleError(
        at,
        `entry ${entry.index} has term ${entry.term}, lower than term ${previous.term} of entry ${previous.index}`,
      );
    }
    this.entries.push(entry);
  }

  /** The last entry index (or the marker index when the log is empty after a marker); 0 when nothing was seen. */
  lastIndex(): number {
    return this.firstIndex === undefined ? 0 : this.firstIndex + this.entries.length - 1;
  }

  currentHardState(): HardState | undefined {
    return this.hardState;
  }

  result(): ReplayedLog {
    const out: { -readonly [K in keyof ReplayedLog]: ReplayedLog[K] } = { entries: this.entries };
    if (this.hardState) out.hardState = this.hardState;
    if (this.firstIndex !== undefined) out.firstIndex = this.firstIndex;
    if (this.marker) out.snapshotMarker = this.marker;
    return out;
  }
}
