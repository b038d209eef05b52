// How far the copy of each import into this group has come, as replicated state: for the import at epoch E, the
// last key of its source's export that this group has ingested together with every key before it (the copy
// cursor). A coordinator reads it with the slot records and resumes the copy after it, so one that takes over a
// move mid-copy (the operator's standby, after the leader died) sends only the pages not yet applied.
//
// Why the cursor may be trusted: the source is frozen for the whole copy, so its export of the batch is one fixed
// key-ordered list, and a page exported "after K" is exactly that list's keys in (K, last key of the page]. The
// cursor moves only for a page that starts at or before it, so everything up to its new value is in: the keys up
// to the old cursor were, the page holds the rest. A page that starts beyond the cursor (a coordinator that skipped
// a page, or resumed from a position of its own the group no longer has) is still applied — its keys are the
// source's frozen data, the same as any other copy of them — but leaves the cursor where it was, so nothing is
// ever skipped on the strength of it. The sealing page ends the import's need for a cursor, as does an abort.
// (That a page holds every key of its range is the coordinator's word, as it always was for the seal: the group
// checks what it can, that the keys ascend after the page's start.)
//
// One import per epoch: a group starts an import only at an epoch newer than any it has seen
// (../sharding/slot-ownership.ts), so the epoch alone names the import, and its source is the peer its slots record.

import { compareBytes } from './bytes.js';

/**
 * Where an ingested page starts in its source's export: at the batch's first key, or just after `key` (the last key
 * of the page before). 'unknown' only in log entries written before ingest carried it: such a page is applied as it
 * was then and never moves the cursor.
 */
export type PageStart =
  | { readonly kind: 'first' }
  | { readonly kind: 'after'; readonly key: Uint8Array }
  | { readonly kind: 'unknown' };

/** One import's cursor: the serialisable form (snapshots). */
export interface CopyCursor {
  /** The epoch of the import: ≥ 1. */
  readonly epoch: number;
  /** Never empty: an empty key is never stored, so never ingested. */
  readonly key: Uint8Array;
}

/**
 * Why a page that says where it starts cannot be a page of an export, or undefined: its keys must be strictly
 * ascending and after its start, as the source exports them. Checked before the page is applied, so the cursor
 * only ever advances over a range the page really covers.
 */
export function pageProblem(start: PageStart, keys: readonly Uint8Array[]): string | undefined {
  if (start.kind === 'unknown') return undefined;
  let previous = start.kind === 'after' ? start.key : undefined;
  for (const [i, key] of keys.entries()) {
    if (previous !== undefined && compareBytes(previous, key) >= 0) {
      return i === 0
        ? 'the page’s first key is not after the key it says it starts after'
        : `the page’s keys are not in strictly ascending order (key ${i})`;
    }
    previous = key;
  }
  return undefined;
}

export class CopyCursors {
  readonly #byEpoch = new Map<number, Uint8Array>();

  /** Rebuilds what toList captured (snapshot-codec.ts checked its order; the state machine checks its epochs). */
  static fromList(cursors: readonly CopyCursor[]): CopyCursors {
    const out = new CopyCursors();
    for (const c of cursors) out.#byEpoch.set(c.epoch, c.key);
    return out;
  }

  /** In ascending epoch order, so equal states give equal snapshots. The keys are the group's own: do not mutate. */
  toList(): CopyCursor[] {
    return [...this.#byEpoch].sort(([a], [b]) => a - b).map(([epoch, key]) => ({ epoch, key }));
  }

  get size(): number {
    return this.#byEpoch.size;
  }

  /** The import's cursor; undefined before its first page that continues the copy from the start. */
  of(epoch: number): Uint8Array | undefined {
    return this.#byEpoch.get(epoch);
  }

  /**
   * Records that a page of the import at `epoch` starting at `start` and ending at `last` was applied: the cursor
   * moves to `last` when the page continues the copy (starts at or before the cursor) and ends beyond it. Returns
   * whether it moved. `last` must be a key the group stored (never empty) and the page must have passed pageProblem.
   */
  advance(epoch: number, start: PageStart, last: Uint8Array): boolean {
    const cursor = this.#byEpoch.get(epoch);
    const continues =
      start.kind === 'first' ||
      (start.kind === 'after' && cursor !== undefined && compareBytes(start.key, cursor) <= 0);
    if (!continues || (cursor !== undefined && compareBytes(last, cursor) <= 0)) return false;
    this.#byEpoch.set(epoch, last);
    return true;
  }

  /** The import at `epoch` is sealed or aborted: its copy is over either way. */
  clear(epoch: number): void {
    this.#byEpoch.delete(epoch);
  }
}
