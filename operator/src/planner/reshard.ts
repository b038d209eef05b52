// The resharding half of the planner: pure, from the groups' own record of every slot (their slot tables) to the next
// step of a reshard. Level-based like the rest of the planner: a batch already under way is found in the tables and
// resumed at its epoch, whatever status says; status.operation.slotMove (recorded before the batch's first step)
// only covers the moment before the first step changed anything. When no batch is under way, the next one is the
// first run of `rebalance`'s plan: contiguous slots with one source and one target, at most `batchSlots` of them,
// at an epoch above every epoch any group has seen.
import type { Operation, SlotMove } from '../api/raftcluster.js';
import { rebalance, ShardMap, type SlotRange } from '../../../node/shared/sharding/shard-map.js';
import { SLOT_COUNT } from '../../../node/shared/sharding/slot.js';
import { NO_PEER, type SlotRecord } from '../../../node/shared/sharding/move-driver.js';
import type { ObservedCluster, ObservedShard } from '../model/observed.js';
import type { PlannerOptions } from './options.js';
import { stalePointers, type RepointBatch } from './repoint.js';
import type { Step } from './step.js';

export type ReshardStep =
  /** Drive this batch to the end (a new one, or one found under way). */
  | { kind: 'move'; move: SlotMove; resumed: boolean; slotsToMove: number }
  /** Every slot is where it belongs, but `shard` believes slots it gave away live in a group going or gone. */
  | { kind: 'repoint'; shard: number; retiring: number | undefined; batches: RepointBatch[] }
  /** Every slot is where it belongs; this group beyond spec.shards owns none: delete its objects. */
  | { kind: 'retire'; shard: number }
  | { kind: 'wait'; step: string; message: string };

/** A batch's identity in the groups' records: which group gives, which takes, at which epoch. */
interface MoveKey {
  from: number;
  to: number;
  epoch: number;
}

/** Undefined when there is nothing to do: one group, or every slot where an even spread over spec.shards puts it. */
export function planReshard(
  shards: readonly ObservedShard[],
  targetShards: number,
  recorded: SlotMove | undefined,
  batchSlots: number,
): ReshardStep | undefined {
  if (shards.length <= 1 && targetShards <= 1) return undefined;
  const unread = shards.filter((s) => s.slotTable === undefined).map((s) => s.shard);
  if (unread.length > 0) {
    return {
      kind: 'wait',
      step: 'WaitSlotTables',
      message: `waiting for the leader of shard(s) ${unread.join(', ')} to report its slots`,
    };
  }
  const tables = new Map(shards.map((s) => [s.shard, s.slotTable?.records ?? []]));
  const record = (shard: number, slot: number): SlotRecord | undefined => tables.get(shard)?.[slot];

  // 1. A batch under way, found in the records: resumed before anything else, at its own epoch.
  const underWay = movesUnderWay(shards);
  if (underWay.length > 0) {
    const pick =
      underWay.find(
        (m) =>
          recorded !== undefined &&
          m.key.from === recorded.from &&
          m.key.to === recorded.to &&
          m.key.epoch === recorded.epoch,
      ) ?? underWay[0]!;
    const [firstSlot, lastSlot] = firstRun(pick.slots);
    return {
      kind: 'move',
      move: { ...pick.key, firstSlot, lastSlot },
      resumed: true,
      slotsToMove: slotsToMove(shards, targetShards) ?? 0,
    };
  }

  // 2. The recorded batch, if its first step may not have happened yet (its source still owns it all).
  if (recorded !== undefined && tables.has(recorded.from) && tables.has(recorded.to)) {
    let sourceOwnsAll = true;
    for (let slot = recorded.firstSlot; slot <= recorded.lastSlot; slot++) {
      if (record(recorded.from, slot)?.state !== 'owned') sourceOwnsAll = false;
    }
    const stillPlanned = planFor(shards, targetShards);
    if (
      sourceOwnsAll &&
      stillPlanned.kind === 'moves' &&
      stillPlanned.moves.some(
        (m) => m.slot === recorded.firstSlot && m.from === recorded.from && m.to === recorded.to,
      )
    ) {
      return { kind: 'move', move: recorded, resumed: false, slotsToMove: stillPlanned.moves.length };
    }
  }

  // 3. The next batch of the plan, or retirement of an emptied group, or nothing.
  const planned = planFor(shards, targetShards);
  if (planned.kind === 'wait') return planned;
  if (planned.moves.length === 0) {
    const retiring = shards.filter((s) => s.shard >= targetShards && s.statefulSet !== undefined).at(-1);
    // Before a group goes, no other may still send its keys there: members route a slot their group gave away to
    // the group their record names, and once that group's members are gone such a request has nowhere to go.
    const stale = stalePointers(shards, planned.owners, retiring?.shard);
    if (stale !== undefined) return { kind: 'repoint', ...stale, retiring: retiring?.shard };
    return retiring === undefined ? undefined : { kind: 'retire', shard: retiring.shard };
  }
  const first = planned.moves[0]!;
  let lastSlot = first.slot;
  for (const m of planned.moves.slice(1)) {
    if (lastSlot - first.slot + 1 >= batchSlots) break;
    if (m.from !== first.from || m.to !== first.to || m.slot !== lastSlot + 1) break;
    lastSlot = m.slot;
  }
  const seen = Math.max(0, recorded?.epoch ?? 0, ...shards.map((s) => s.slotTable?.epoch ?? 0));
  return {
    kind: 'move',
    move: { from: first.from, to: first.to, firstSlot: first.slot, lastSlot, epoch: seen + 1 },
    resumed: false,
    slotsToMove: planned.moves.length,
  };
}

/** The reshard's next step as a planner Step, and whether it continues a batch already under way. */
export function nextReshardStep(
  observed: ObservedCluster,
  previous: Operation | undefined,
  options: PlannerOptions,
): { step: Step; underWay: boolean } | undefined {
  const target = observed.cluster.spec.shards;
  const step = planReshard(observed.shards, target, previous?.slotMove, options.reshardBatchSlots);
  if (step === undefined) return undefined;
  // spec.shards changed while a reshard ran: the batch under way finishes first (its slots' writes wait on it), so
  // the new reshard is queued behind it; one that finds no batch under way replaces the old one at once.
  const earlier =
    previous?.type === 'Reshard' && previous.targetShards !== undefined && previous.targetShards !== target
      ? previous.targetShards
      : undefined;
  switch (step.kind) {
    case 'wait':
      return {
        underWay: false,
        step: {
          type: 'Reshard',
          step: step.step,
          message: step.message,
          shard: 0,
          targetShards: target,
          action: { type: 'Wait', reason: step.message, requeueAfterSeconds: options.pollSeconds },
        },
      };
    case 'repoint': {
      const slots = step.batches.reduce((n, b) => n + b.slots.length, 0);
      const owners = step.batches.map((b) => b.owner).join(', ');
      const why =
        step.retiring !== undefined
          ? `before shard ${step.retiring} is retired`
          : '(a group they named is gone)';
      return {
        underWay: false,
        step: {
          type: 'Reshard',
          step: 'RepointSlots',
          message:
            `resharding to ${target} shards: pointing shard ${step.shard}'s routing records of ${slots} slot(s) ` +
            `at their owners now (shard(s) ${owners}) ${why}`,
          shard: step.shard,
          targetShards: target,
          action: { type: 'RepointSlots', shard: step.shard, batches: step.batches },
        },
      };
    }
    case 'retire':
      return {
        underWay: false,
        step: {
          type: 'Reshard',
          step: 'RetireShard',
          message: `resharding to ${target} shards: shard ${step.shard} owns no slot any more; deleting its objects`,
          shard: step.shard,
          targetShards: target,
          action: { type: 'RetireShard', shard: step.shard },
        },
      };
    case 'move': {
      const m = step.move;
      const count = m.lastSlot - m.firstSlot + 1;
      const batch = `slots ${m.firstSlot}-${m.lastSlot} (${count}) from shard ${m.from} to shard ${m.to} at epoch ${m.epoch}`;
      const queued = step.resumed && earlier !== undefined;
      return {
        underWay: step.resumed,
        step: {
          type: 'Reshard',
          step: 'MoveSlots',
          message: queued
            ? `reshard to ${target} shards queued: finishing the batch under way of the reshard to ${earlier} ` +
              `shards first (${batch})`
            : `resharding to ${target} shards: ${step.resumed ? 'resuming' : 'moving'} ${batch}; ` +
              `${step.slotsToMove} slot(s) to move in all` +
              (earlier !== undefined ? ` (replaces the reshard to ${earlier} shards)` : ''),
          shard: m.from,
          slotMove: m,
          targetShards: queued ? earlier : target,
          action: { type: 'MoveSlots', move: m },
        },
      };
    }
  }
}

/** Slots not yet where an even spread over `targetShards` puts them; undefined while the records disagree. */
export function slotsToMove(shards: readonly ObservedShard[], targetShards: number): number | undefined {
  const planned = planFor(shards, targetShards);
  return planned.kind === 'moves' ? planned.moves.length : undefined;
}

type Planned =
  | { kind: 'moves'; moves: ReturnType<typeof rebalance>; owners: readonly number[] }
  | { kind: 'wait'; step: string; message: string };

/** `rebalance` over the owners the tables agree on; a slot with no owner or two is reported, never guessed. */
function planFor(shards: readonly ObservedShard[], targetShards: number): Planned {
  const owners = new Array<number | undefined>(SLOT_COUNT).fill(undefined);
  for (const s of shards) {
    const records = s.slotTable?.records ?? [];
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      if (records[slot]?.state !== 'owned') continue;
      if (owners[slot] !== undefined) {
        return {
          kind: 'wait',
          step: 'SlotOwnedTwice',
          message: `slot ${slot} is reported owned by shards ${owners[slot]} and ${s.shard}; not moving anything`,
        };
      }
      owners[slot] = s.shard;
    }
  }
  const orphan = owners.indexOf(undefined);
  if (orphan !== -1) {
    return {
      kind: 'wait',
      step: 'SlotUnowned',
      message: `slot ${orphan} is owned by no shard and no move of it is under way; not moving anything`,
    };
  }
  const ranges: SlotRange[] = [];
  let start = 0;
  for (let slot = 1; slot <= SLOT_COUNT; slot++) {
    if (slot === SLOT_COUNT || owners[slot] !== owners[start]) {
      ranges.push({ start, end: slot - 1, shard: owners[start]! });
      start = slot;
    }
  }
  const map = ShardMap.fromSpec({ epoch: 1, ranges });
  return {
    kind: 'moves',
    owners: owners as number[],
    moves: rebalance(
      map,
      Array.from({ length: targetShards }, (_, i) => i),
    ),
  };
}

/** Batches half-done in the records, oldest epoch first, each with its slots in ascending order. */
function movesUnderWay(shards: readonly ObservedShard[]): { key: MoveKey; slots: number[] }[] {
  const found = new Map<string, { key: MoveKey; slots: Set<number> }>();
  const add = (key: MoveKey, slot: number): void => {
    const id = `${key.from}>${key.to}@${key.epoch}`;
    let entry = found.get(id);
    if (entry === undefined) {
      entry = { key, slots: new Set() };
      found.set(id, entry);
    }
    entry.slots.add(slot);
  };
  for (const s of shards) {
    const records = s.slotTable?.records ?? [];
    records.forEach((r, slot) => {
      if (r.peer === NO_PEER) return;
      if (r.state === 'leaving') add({ from: s.shard, to: r.peer, epoch: r.epoch }, slot);
      else if (r.state === 'importing' || r.state === 'imported')
        add({ from: r.peer, to: s.shard, epoch: r.epoch }, slot);
    });
  }
  return [...found.values()]
    .map((e) => ({ key: e.key, slots: [...e.slots].sort((a, b) => a - b) }))
    .sort((a, b) => a.key.epoch - b.key.epoch || a.slots[0]! - b.slots[0]!);
}

/** The first run of consecutive slots: a batch is a contiguous range. */
function firstRun(slots: readonly number[]): [number, number] {
  const first = slots[0]!;
  let last = first;
  for (const slot of slots.slice(1)) {
    if (slot !== last + 1) break;
    last = slot;
  }
  return [first, last];
}
