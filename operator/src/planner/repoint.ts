// Stale routing records, found before a group is retired. A group that gave a slot away records where it went and
// its members forward the slot's keys there (node/src/routing/route.ts). When the slot moves on again, that record
// goes stale: harmless while the group it names still answers (one more hop, then a redirect), but once that group
// is retired its members are gone and a request routed by the record has nowhere to go. So before a group is
// retired, every other group's record that names it is pointed at the slot's owner now (the `repoint` slot step),
// and records naming a group already gone (retired by an older operator) are corrected the same way.
// A slot a group never held has no record (NO_PEER): its members route it by their hints, learnt from redirects,
// which may name the retiring group too. So before a retirement those slots get a record as well, pointing at the
// owner; from then on a group's own records answer for every slot, and the hints are a fallback no longer used.
// Pure.
import { NO_PEER } from '../../../node/shared/sharding/move-driver.js';
import { SLOT_COUNT } from '../../../node/shared/sharding/slot.js';
import type { ObservedShard } from '../model/observed.js';

/**
 * Slots one group gave away, to be pointed at `owner`. `epoch` is the latest at which the owner got one of them (or
 * the group recorded one): every epoch a move really had, so no move may start at or below it anyway.
 */
export interface RepointBatch {
  owner: number;
  epoch: number;
  slots: number[];
}

/**
 * The first group (by shard id) with records naming `retiring` or a group that is not observed any more (and, when
 * a group is retiring, slots it has no record of), as one batch per owner now; undefined when no group has one. `owners[slot]` is the slot's owner (every slot has one: the
 * caller found no move under way and no orphan). The retiring group's own records do not matter: it goes next.
 */
export function stalePointers(
  shards: readonly ObservedShard[],
  owners: readonly number[],
  retiring: number | undefined,
): { shard: number; batches: RepointBatch[] } | undefined {
  const present = new Set(shards.map((s) => s.shard));
  const ownerEpoch = new Map<number, readonly number[]>(
    shards.map((s) => [s.shard, (s.slotTable?.records ?? []).map((r) => r.epoch)]),
  );
  for (const s of [...shards].sort((a, b) => a.shard - b.shard)) {
    if (s.shard === retiring || s.slotTable === undefined) continue;
    const byOwner = new Map<number, RepointBatch>();
    s.slotTable.records.forEach((r, slot) => {
      if (r.state !== 'absent' || slot >= SLOT_COUNT) return;
      const stale = r.peer === NO_PEER ? retiring !== undefined : r.peer === retiring || !present.has(r.peer);
      if (!stale) return;
      const owner = owners[slot];
      if (owner === undefined || owner === r.peer) return;
      let batch = byOwner.get(owner);
      if (batch === undefined) {
        batch = { owner, epoch: 1, slots: [] };
        byOwner.set(owner, batch);
      }
      batch.slots.push(slot);
      // Never below the record's own epoch either: the group keeps a record newer than a repoint's epoch, and a
      // repoint that changes nothing would be planned again at every reconcile, holding the retirement back.
      batch.epoch = Math.max(batch.epoch, r.epoch, ownerEpoch.get(owner)?.[slot] ?? 0);
    });
    if (byOwner.size > 0)
      return { shard: s.shard, batches: [...byOwner.values()].sort((a, b) => a.owner - b.owner) };
  }
  return undefined;
}
