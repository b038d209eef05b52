// The chaos reshard's decisions, pure: which batches move (the members' own plan, `rebalance`, cut into runs of
// contiguous slots), what the groups' records say the layout is and whether it is the even spread a phase must end
// in, and which keys the workload uses so that some of them ride along with every move.
import type { MoveBatch } from '../shared/sharding/move-driver.js';
import type { SlotState } from '../shared/sharding/move-phase.js';
import { rebalance, ShardMap, type ShardId } from '../shared/sharding/shard-map.js';
import { keySlot, SLOT_COUNT } from '../shared/sharding/slot.js';

/** Slots of one batch at most: a batch is frozen (writes refused) from its freeze until the target serves it. */
export const MAX_BATCH_SLOTS = 256;

export const ALL_SLOTS: readonly number[] = Array.from({ length: SLOT_COUNT }, (_, slot) => slot);

export function shardIds(count: number): ShardId[] {
  return Array.from({ length: count }, (_, i) => i);
}

/**
 * The moves that spread `map` evenly over `shards`, as batches: consecutive slots with the same source and target,
 * at most `maxSlots` each, in slot order. Every move of the plan is in exactly one batch.
 */
export function planBatches(
  map: ShardMap,
  shards: readonly ShardId[],
  maxSlots: number = MAX_BATCH_SLOTS,
): MoveBatch[] {
  if (!Number.isInteger(maxSlots) || maxSlots < 1) throw new Error(`batch size ${maxSlots} is not positive`);
  const moves = [...rebalance(map, shards)].sort((a, b) => a.slot - b.slot);
  const batches: MoveBatch[] = [];
  let current: { slots: number[]; from: ShardId; to: ShardId } | undefined;
  for (const move of moves) {
    const extends_ =
      current !== undefined &&
      current.from === move.from &&
      current.to === move.to &&
      current.slots.at(-1) === move.slot - 1 &&
      current.slots.length < maxSlots;
    if (extends_) current!.slots.push(move.slot);
    else {
      if (current !== undefined) batches.push(current);
      current = { slots: [move.slot], from: move.from, to: move.to };
    }
  }
  if (current !== undefined) batches.push(current);
  return batches;
}

export function describeBatch(batch: MoveBatch): string {
  const first = batch.slots[0];
  const last = batch.slots.at(-1);
  return `slots ${first}-${last} (${batch.slots.length}) ${batch.from}->${batch.to}`;
}

export interface Layout {
  /** Slots each shard serves (owned). */
  readonly counts: ReadonlyMap<ShardId, number>;
  /** The layout as a map, when every slot is owned by exactly one group and none is in motion. */
  readonly map: ShardMap | undefined;
  /** Why it is not a clean layout (double or missing owners, slots in motion), at most a few examples each. */
  readonly problems: readonly string[];
}

const EXAMPLES = 5;

/** Reads a layout off each group's record of every slot (`states.get(shard)[slot]`). */
export function observeLayout(states: ReadonlyMap<ShardId, readonly SlotState[]>): Layout {
  const owners = new Map<number, ShardId[]>();
  const inMotion: string[] = [];
  const counts = new Map<ShardId, number>();
  for (const [shard, records] of states) {
    if (records.length !== SLOT_COUNT) {
      return { counts, map: undefined, problems: [`shard ${shard} reported ${records.length} slots`] };
    }
    counts.set(shard, 0);
    records.forEach((state, slot) => {
      if (state === 'owned') {
        owners.set(slot, [...(owners.get(slot) ?? []), shard]);
        counts.set(shard, (counts.get(shard) ?? 0) + 1);
      } else if (state !== 'absent') inMotion.push(`slot ${slot} ${state} on shard ${shard}`);
    });
  }
  const doubled: string[] = [];
  const missing: number[] = [];
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const o = owners.get(slot) ?? [];
    if (o.length === 0) missing.push(slot);
    else if (o.length > 1) doubled.push(`slot ${slot} owned by ${o.join(' and ')}`);
  }
  const problems: string[] = [];
  const report = (what: string, items: readonly (string | number)[]): void => {
    if (items.length === 0) return;
    const shown = items.slice(0, EXAMPLES).join(', ');
    problems.push(`${items.length} ${what}: ${shown}${items.length > EXAMPLES ? ', …' : ''}`);
  };
  report('slot(s) owned by two groups', doubled);
  report('slot(s) owned by no group asked', missing);
  report('slot record(s) in motion', inMotion);
  if (problems.length > 0) return { counts, map: undefined, problems };
  const map = ShardMap.fromSpec({
    epoch: 1,
    ranges: ALL_SLOTS.map((slot) => ({ start: slot, end: slot, shard: owners.get(slot)![0]! })),
  });
  return { counts, map, problems };
}

/**
 * Why `layout` is not an even spread over `shards` (each owns ⌊4096/n⌋ or ⌈4096/n⌉ slots, every other group
 * asked owns none); undefined when it is.
 */
export function unevenBy(layout: Layout, shards: readonly ShardId[]): string | undefined {
  if (layout.problems.length > 0) return layout.problems.join('; ');
  const low = Math.floor(SLOT_COUNT / shards.length);
  const high = Math.ceil(SLOT_COUNT / shards.length);
  const wrong: string[] = [];
  for (const [shard, count] of layout.counts) {
    if (shards.includes(shard) ? count < low || count > high : count !== 0)
      wrong.push(`shard ${shard}: ${count}`);
  }
  for (const shard of shards) if (!layout.counts.has(shard)) wrong.push(`shard ${shard}: not asked`);
  if (wrong.length === 0) return undefined;
  return `not an even spread over shards ${shards.join(',')} (${low}-${high} each, none elsewhere): ${wrong.join(', ')}`;
}

export function describeCounts(layout: Layout): string {
  return [...layout.counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([shard, count]) => `${shard}:${count}`)
    .join(' ');
}

/**
 * `count` workload keys for a reshard of `shards` → `shards + 1` → `shards`, named k<i> like the keys of a cluster of
 * one shard: taken in turn from each original shard's slots that move to the new shard and back, and from its
 * slots that stay, so every phase has keys in motion and keys beside it.
 */
export function reshardKeys(shards: number, count: number): string[] {
  const creation = ShardMap.even(shardIds(shards));
  const moving = new Set(rebalance(creation, shardIds(shards + 1)).map((m) => m.slot));
  const keys: string[] = [];
  let next = 0;
  // Bounded: about one name in (shards * 4) fits a given category, and each category is searched once per key.
  for (let i = 0; i < count; i++) {
    const category = i % (2 * shards);
    const shard = Math.floor(category / 2);
    const wantMoving = category % 2 === 0;
    for (let tries = 0; ; tries++) {
      if (tries > 100_000)
        throw new Error(`no key for shard ${shard} (moving ${wantMoving}) in 100000 names`);
      const name = `k${next++}`;
      const slot = keySlot(name);
      if (creation.shardOfSlot(slot) === shard && moving.has(slot) === wantMoving) {
        keys.push(name);
        break;
      }
    }
  }
  return keys;
}
