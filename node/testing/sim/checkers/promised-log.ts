// What a member's real storage has promised is durable: every write of a persist that resolved with an fsync, every
// snapshot it saved. The storage itself runs on the simulated disk (sim-file-system.ts), which loses unsynced bytes
// and tears tails at a crash; this record is kept beside it from the host's calls alone, so at a restart the
// checker can hold what the storage recovered against what it promised: a synced entry, vote or snapshot that does
// not come back is a durability bug, found where it happens rather than as a lost write much later.
// It is also the log a crashed member would campaign with, for the electability check (electable.ts).
import type { Entry, HardState, Snapshot } from '../../../src/raft/index.js';

export type PromisedRecord =
  | { readonly kind: 'installSnapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState };

/** What a restart recovered (storage/raft-disk-storage.ts RecoveredState). */
export interface RecoveredView {
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
}

export class PromisedLogError extends Error {
  override readonly name = 'PromisedLogError';
}

export class PromisedLog {
  private snapshot: Snapshot | undefined;
  private entries: Entry[] = [];
  private hardState: HardState | undefined;
  /** Issued, not yet synced, in order. */
  private unsynced: PromisedRecord[] = [];
  /**
   * The lowest log index an issued write touched since the last sync, kept across a crash until the restart: a
   * write that survived the crash in part may legitimately have replaced the promised log from there on.
   */
  private touchedFrom = Infinity;

  /** Writes of a persist that started (in the order the storage writes them: snapshot, entries, hard state). */
  write(record: PromisedRecord): void {
    this.unsynced.push(record);
    const from =
      record.kind === 'entry'
        ? record.entry.index
        : record.kind === 'installSnapshot'
          ? record.snapshot.metadata.index
          : Infinity;
    this.touchedFrom = Math.min(this.touchedFrom, from);
  }

  /** A persist resolved with an fsync: everything issued before it is promised. */
  sync(): void {
    for (const r of this.unsynced) this.applyRecord(r);
    this.unsynced = [];
    this.touchedFrom = Infinity;
  }

  /**
   * A snapshot of the member's own state machine was saved; the log up to it may be dropped. The WAL is ordered
   * before the snapshot's save, so everything issued earlier counts as synced by then.
   */
  compact(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    if (this.snapshot && index <= this.snapshot.metadata.index) return;
    const base = this.snapshot?.metadata.index ?? 0;
    const last = base + this.entries.length;
    if (index > last) {
      throw new PromisedLogError(`a snapshot at ${index} was saved beyond the promised log's end ${last}`);
    }
    this.entries = this.entries.slice(index - base);
    this.snapshot = snapshot;
  }

  /** The crash: what was not synced is not promised (what survived of it shows at the restart). */
  crash(): void {
    this.unsynced = [];
  }

  /**
   * Holds a restart's recovered log against the promises; returns the first broken one. The recovered log may hold
   * more (unsynced writes that reached the disk anyway) but never less, except where a write issued after the last
   * sync replaced the promised log: from that index on, any outcome of the interrupted write is legitimate.
   */
  brokenPromise(recovered: RecoveredView): string | undefined {
    const hs = this.hardState;
    const got = recovered.hardState;
    if (hs !== undefined) {
      if (got === undefined) return `the synced hard state (term ${hs.term}) did not come back`;
      if (got.term < hs.term) return `the synced term ${hs.term} came back as ${got.term}`;
      if (got.term === hs.term && hs.vote !== '' && got.vote !== hs.vote) {
        return `the vote for ${hs.vote} synced in term ${hs.term} came back as '${got.vote}'`;
      }
      if (got.commit < hs.commit) return `the synced commit index ${hs.commit} came back as ${got.commit}`;
    }
    const promisedSnap = this.snapshot?.metadata.index ?? 0;
    const recoveredSnap = recovered.snapshot?.metadata.index ?? 0;
    if (recoveredSnap < promisedSnap && promisedSnap < this.touchedFrom) {
      return `the snapshot at ${promisedSnap} was saved, but the restart found only one at ${recoveredSnap}`;
    }
    const base = recovered.snapshot?.metadata.index ?? 0;
    for (const e of this.entries) {
      if (e.index <= base) continue;
      if (e.index >= this.touchedFrom) break;
      const r = recovered.entries[e.index - base - 1];
      if (r === undefined) return `the synced entry ${e.index}@${e.term} did not come back`;
      if (r.index !== e.index || r.term !== e.term) {
        return `the synced entry ${e.index}@${e.term} came back as ${r.index}@${r.term}`;
      }
    }
    return undefined;
  }

  /** After a restart the recovered log is what the disk holds: it is the promise from now on. */
  reset(recovered: RecoveredView): void {
    this.snapshot = recovered.snapshot;
    this.entries = [...recovered.entries];
    this.hardState = recovered.hardState;
    this.unsynced = [];
    this.touchedFrom = Infinity;
  }

  /** The promised log as the checkers see it (index 0 has term 0 on a disk that has nothing yet). */
  firstIndex(): number {
    return (this.snapshot?.metadata.index ?? 0) + 1;
  }

  lastIndex(): number {
    return (this.snapshot?.metadata.index ?? 0) + this.entries.length;
  }

  /** The promised term at `index`: undefined when compacted away or beyond the promised log. */
  termAt(index: number): number | undefined {
    const base = this.snapshot?.metadata.index ?? 0;
    if (index === base) return this.snapshot?.metadata.term ?? 0;
    if (index < base || index > base + this.entries.length) return undefined;
    return this.entries[index - base - 1]!.term;
  }

  private applyRecord(r: PromisedRecord): void {
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
          throw new PromisedLogError(
            `entry ${r.entry.index} written after a gap (the promised log ends at ${base + this.entries.length})`,
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
