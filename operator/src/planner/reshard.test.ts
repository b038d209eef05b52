// Resharding in the planner: the pure choice of the next batch from the groups' slot tables (planReshard), and the
// whole planner driven against a model of the groups that applies each batch — also half-way, as a coordinator that
// crashed mid-batch leaves it — until the cluster converges: every shard an equal share (±1), emptied groups retired.
import { desiredImage, type Operation, type RaftClusterSpec } from '../api/raftcluster.js';
import { podName, pvcName } from '../children/names.js';
import { childrenSpecHash } from '../children/spec-hash.js';
import { NO_PEER, type SlotRecord } from '../../../node/shared/sharding/move-driver.js';
import { SLOT_COUNT } from '../../../node/shared/sharding/slot.js';
import type { ObservedCluster, ObservedShard } from '../model/observed.js';
import type { Plan } from './action.js';
import { DEFAULT_PLANNER_OPTIONS, plan } from './plan.js';
import { planReshard } from './reshard.js';
import { evaluate, progressingPolicies } from '../status/conditions.js';
import { baseSpec, CLUSTER, NAMESPACE } from '../../testing/sim-world.js';

const OWNED: SlotRecord = { state: 'owned', epoch: 0, peer: NO_PEER };
const ABSENT: SlotRecord = { state: 'absent', epoch: 0, peer: NO_PEER };
const NOW = new Date('2026-01-01T00:00:00Z');

/** Slot records of a group that owns [start, end] ranges and nothing else. */
function records(owned: readonly (readonly [number, number])[]): SlotRecord[] {
  const r = new Array<SlotRecord>(SLOT_COUNT).fill(ABSENT);
  for (const [a, b] of owned) for (let s = a; s <= b; s++) r[s] = OWNED;
  return r;
}

/** A healthy shard of three members whose leader reported `table`. */
function shard(n: number, table: SlotRecord[] | undefined, epoch = 0, spec = baseSpec()): ObservedShard {
  const image = desiredImage(spec);
  const names = [0, 1, 2].map((i) => podName(CLUSTER, n, i));
  return {
    shard: n,
    statefulSet: {
      replicas: 3,
      image,
      initialClusterState: 'existing',
      childrenHash: childrenSpecHash(spec),
    },
    pods: names.map((name, i) => ({
      name,
      ordinal: i,
      phase: 'Running',
      ready: true,
      image,
      deleting: false,
      identity: { id: `${n}${i}`, incarnation: 1, joined: true },
    })),
    pvcs: [0, 1, 2].map((i) => ({ name: pvcName(CLUSTER, n, i), ordinal: i, deleting: false })),
    raft: {
      kind: 'members',
      leaderId: `${n}0`,
      lastIndex: 10,
      members: names.map((name, i) => ({
        name,
        id: `${n}${i}`,
        role: 'voter',
        healthy: true,
        matchIndex: 10,
        incarnation: 1,
      })),
    },
    slots: undefined,
    slotTable: table === undefined ? undefined : { epoch, records: table },
  };
}

function cluster(spec: RaftClusterSpec, shards: ObservedShard[], operation?: Operation): ObservedCluster {
  return {
    cluster: {
      apiVersion: 'raftstore.dev/v1alpha1',
      kind: 'RaftCluster',
      metadata: { name: CLUSTER, namespace: NAMESPACE, uid: 'uid-1', generation: 1 },
      spec,
      ...(operation !== undefined ? { status: { operation } } : {}),
    },
    childrenExist: true,
    bootstrapShards: 2,
    shards,
  };
}

describe('planReshard: the next batch from the slot tables', () => {
  const two = (): ObservedShard[] => [
    shard(0, records([[0, 2047]]), 3),
    shard(1, records([[2048, 4095]]), 4),
  ];

  test('one group and one wanted: nothing to do, without reading any table', () => {
    expect(planReshard([shard(0, undefined)], 1, undefined, 256)).toBeUndefined();
  });

  test('growing 2 → 3: the first contiguous run of the plan, capped at the batch size, above every epoch seen', () => {
    const step = planReshard([...two(), shard(2, records([]))], 3, undefined, 256);
    // Targets 1366/1365/1365: shard 0 gives its slots above 1365 to the new shard first.
    expect(step).toEqual({
      kind: 'move',
      move: { from: 0, to: 2, firstSlot: 1366, lastSlot: 1621, epoch: 5 },
      resumed: false,
      slotsToMove: 1365,
    });
  });

  test('a batch under way is found in the tables and resumed at its own epoch, whatever status says', () => {
    const s0 = records([[0, 2047]]);
    const s2 = records([]);
    for (let s = 1366; s <= 1621; s++) {
      s0[s] = { state: 'leaving', epoch: 9, peer: 2 };
      s2[s] = { state: 'importing', epoch: 9, peer: 0 };
    }
    const shards = [shard(0, s0, 9), shard(1, records([[2048, 4095]]), 4), shard(2, s2, 9)];
    const step = planReshard(shards, 3, undefined, 256);
    expect(step).toMatchObject({
      kind: 'move',
      move: { from: 0, to: 2, firstSlot: 1366, lastSlot: 1621, epoch: 9 },
      resumed: true,
    });
  });

  test('a recorded batch whose first step never happened keeps its epoch', () => {
    const recorded = { from: 0, to: 2, firstSlot: 1366, lastSlot: 1621, epoch: 12 };
    const step = planReshard([...two(), shard(2, records([]))], 3, recorded, 256);
    expect(step).toEqual({ kind: 'move', move: recorded, resumed: false, slotsToMove: 1365 });
  });

  test('balanced, with a group beyond spec.shards that owns nothing: retire it', () => {
    const shards = [...two(), shard(2, records([]))];
    // First the staying groups get a record of the slots they never held (where their members route them).
    expect(planReshard(shards, 2, undefined, 256)).toMatchObject({
      kind: 'repoint',
      shard: 0,
      retiring: 2,
      batches: [{ owner: 1, epoch: 1, slots: expect.arrayContaining([2048, 4095]) as unknown }],
    });
    const pointed = (owner: number, epoch: number): SlotRecord => ({ state: 'absent', epoch, peer: owner });
    const s0 = records([[0, 2047]]).map((r) => (r.state === 'absent' ? pointed(1, 1) : r));
    const s1 = records([[2048, 4095]]).map((r) => (r.state === 'absent' ? pointed(0, 1) : r));
    expect(planReshard([shard(0, s0, 3), shard(1, s1, 4), shard(2, records([]))], 2, undefined, 256)).toEqual(
      {
        kind: 'retire',
        shard: 2,
      },
    );
  });

  test('before retiring a group, repoints records of other groups that still name it (or a group gone)', () => {
    // Balanced over 2 shards (2048 each), with history: shard 0 gave 100-199 to shard 2 at epoch 5, and shard 2
    // gave them to shard 1 at epoch 8; shard 1 gave 3000-3099 to shard 4 (retired long ago) at epoch 2, and
    // shard 4 gave them to shard 0 at epoch 3.
    const s0 = records([
      [0, 99],
      [200, 2047],
      [3000, 3099],
    ]);
    const s1 = records([
      [100, 199],
      [2048, 2999],
      [3100, 4095],
    ]);
    const s2 = records([]);
    for (let s = 100; s <= 199; s++) {
      s0[s] = { state: 'absent', epoch: 5, peer: 2 };
      s1[s] = { state: 'owned', epoch: 8, peer: 2 };
      s2[s] = { state: 'absent', epoch: 8, peer: 1 };
    }
    for (let s = 3000; s <= 3099; s++) {
      s0[s] = { state: 'owned', epoch: 3, peer: 4 };
      s1[s] = { state: 'absent', epoch: 2, peer: 4 };
    }
    const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    const shards = (): ObservedShard[] => [shard(0, s0, 8), shard(1, s1, 8), shard(2, s2, 8)];
    const repoint = (table: SlotRecord[], owner: number, epoch: number, slots: number[]): void => {
      for (const s of slots) table[s] = { state: 'absent', epoch, peer: owner };
    };
    // Shard 0 names shard 2, which retires next, and has no record of the slots it never held (its members would
    // route those by hints that may name shard 2 too): all pointed at shard 1. Shard 2's own records do not matter.
    const shard0Gave = [...range(100, 199), ...range(2048, 2999), ...range(3100, 4095)];
    expect(planReshard(shards(), 2, undefined, 256)).toEqual({
      kind: 'repoint',
      shard: 0,
      retiring: 2,
      batches: [{ owner: 1, epoch: 8, slots: shard0Gave }],
    });
    repoint(s0, 1, 8, shard0Gave);
    // Shard 1 names shard 4, which is not there at all: corrected too, with the slots it never held.
    const shard1Gave = [...range(0, 99), ...range(200, 2047), ...range(3000, 3099)];
    expect(planReshard(shards(), 2, undefined, 256)).toEqual({
      kind: 'repoint',
      shard: 1,
      retiring: 2,
      batches: [{ owner: 0, epoch: 3, slots: shard1Gave }],
    });
    repoint(s1, 0, 3, shard1Gave);
    expect(planReshard(shards(), 2, undefined, 256)).toEqual({ kind: 'retire', shard: 2 });
    // With nothing to retire, a record naming a group gone is still corrected; slots without a record are not
    // (nothing is going: hints naming a live group cost a hop at most).
    s1[3000] = { state: 'absent', epoch: 9, peer: 4 };
    expect(planReshard(shards().slice(0, 2), 2, undefined, 256)).toEqual({
      kind: 'repoint',
      shard: 1,
      retiring: undefined,
      // Never below the record's own epoch: a group keeps a newer record, and a repoint that changed nothing would
      // be planned again forever.
      batches: [{ owner: 0, epoch: 9, slots: [3000] }],
    });
  });

  test('a table not read, a slot owned twice or by no one: wait, never guess', () => {
    expect(
      planReshard([shard(0, records([[0, 4095]])), shard(1, undefined)], 2, undefined, 256),
    ).toMatchObject({
      kind: 'wait',
      step: 'WaitSlotTables',
    });
    expect(
      planReshard([shard(0, records([[0, 4095]])), shard(1, records([[7, 7]]))], 2, undefined, 256),
    ).toMatchObject({ kind: 'wait', step: 'SlotOwnedTwice' });
    expect(
      planReshard([shard(0, records([[0, 4094]])), shard(1, records([]))], 2, undefined, 256),
    ).toMatchObject({
      kind: 'wait',
      step: 'SlotUnowned',
    });
  });
});

/**
 * The groups as the planner sees them, with MoveSlots applied: whole (the driver ran to the end) or half (it
 * crashed after the freeze: source leaving, target importing) — the next plan must finish the half-done batch.
 */
class Groups {
  readonly tables = new Map<number, SlotRecord[]>();
  readonly epochs = new Map<number, number>();
  readonly batches: string[] = [];
  readonly repoints: string[] = [];

  constructor(owned: Map<number, [number, number][]>) {
    for (const [s, ranges] of owned) {
      this.tables.set(s, records(ranges));
      this.epochs.set(s, 0);
    }
  }

  observed(spec: RaftClusterSpec, operation: Operation | undefined): ObservedCluster {
    const shards = [...this.tables.keys()]
      .sort((a, b) => a - b)
      .map((s) => shard(s, this.tables.get(s), this.epochs.get(s), spec));
    // A shard the spec asks for that does not exist yet.
    for (let s = 0; s < spec.shards; s++) {
      if (!this.tables.has(s)) shards.push({ ...shard(s, undefined, 0, spec), statefulSet: undefined });
    }
    return cluster(
      spec,
      shards.sort((a, b) => a.shard - b.shard),
      operation,
    );
  }

  apply(p: Plan, spec: RaftClusterSpec, half: boolean): void {
    const a = p.action;
    if (a.type === 'ApplyChildren') {
      for (let s = 0; s < spec.shards; s++) {
        if (!this.tables.has(s)) {
          this.tables.set(s, records([]));
          this.epochs.set(s, 0);
        }
      }
    } else if (a.type === 'RetireShard') {
      expect(this.tables.get(a.shard)!.every((r) => r.state === 'absent')).toBe(true);
      this.tables.delete(a.shard);
    } else if (a.type === 'RepointSlots') {
      const table = this.tables.get(a.shard)!;
      for (const b of a.batches) {
        for (const s of b.slots) {
          // The group refuses to repoint a slot it holds, and keeps a record newer than the repoint.
          expect(table[s]!.state).toBe('absent');
          if (table[s]!.epoch <= b.epoch) table[s] = { state: 'absent', epoch: b.epoch, peer: b.owner };
        }
        this.epochs.set(a.shard, Math.max(this.epochs.get(a.shard)!, b.epoch));
      }
      this.repoints.push(`${a.shard}:${a.batches.map((b) => `${b.slots.length}>${b.owner}`).join(',')}`);
    } else if (a.type === 'MoveSlots') {
      const { from, to, firstSlot, lastSlot, epoch } = a.move;
      const src = this.tables.get(from)!;
      const dst = this.tables.get(to)!;
      for (let s = firstSlot; s <= lastSlot; s++) {
        // The groups refuse a move of a slot the source does not hold (or no longer holds at this epoch).
        const held = src[s]!.state === 'owned' || (src[s]!.state === 'leaving' && src[s]!.epoch === epoch);
        expect(held).toBe(true);
        src[s] = half ? { state: 'leaving', epoch, peer: to } : { state: 'absent', epoch, peer: to };
        dst[s] = half ? { state: 'importing', epoch, peer: from } : { state: 'owned', epoch, peer: from };
      }
      for (const g of [from, to]) this.epochs.set(g, Math.max(this.epochs.get(g)!, epoch));
      if (!half) this.batches.push(`${firstSlot}-${lastSlot} ${from}>${to}@${epoch}`);
    } else {
      throw new Error(`unexpected action ${a.type}`);
    }
  }

  /** Slots a group gave away whose record names a group that is not there (where its members would route them). */
  danglingRecords(): string[] {
    const out: string[] = [];
    for (const [g, table] of this.tables) {
      table.forEach((r, slot) => {
        if (r.state === 'absent' && r.peer !== NO_PEER && !this.tables.has(r.peer))
          out.push(`shard ${g} slot ${slot} → ${r.peer}`);
      });
    }
    return out;
  }

  counts(): number[] {
    return [...this.tables.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, t]) => t.filter((r) => r.state === 'owned').length);
  }
}

/** Plans and applies until Done; every third MoveSlots first lands half-way, as a crash mid-batch would leave it. */
function converge(groups: Groups, spec: RaftClusterSpec): Plan[] {
  const plans: Plan[] = [];
  let operation: Operation | undefined;
  for (let i = 0; i < 200; i++) {
    const p = plan(groups.observed(spec, operation), NOW, DEFAULT_PLANNER_OPTIONS);
    plans.push(p);
    if (p.action.type === 'Done') return plans;
    operation = p.operation;
    const half =
      p.action.type === 'MoveSlots' && plans.filter((x) => x.action.type === 'MoveSlots').length % 3 === 1;
    groups.apply(p, spec, half);
  }
  throw new Error('did not converge in 200 steps');
}

describe('the planner reshards to an even spread and retires emptied groups', () => {
  test('2 → 4 → 3: equal shares (±1) each time, every batch once to the end, shard 3 retired', () => {
    const groups = new Groups(
      new Map([
        [0, [[0, 2047]]],
        [1, [[2048, 4095]]],
      ]),
    );
    const grow = converge(groups, baseSpec({ shards: 4 }));
    expect(groups.counts()).toEqual([1024, 1024, 1024, 1024]);
    expect(grow[0]!.operation).toMatchObject({ type: 'Reshard', step: 'ApplyChildren' });
    // 2048 slots in batches of at most 256, each driven to the end exactly once (a half-done one is resumed).
    expect(groups.batches).toHaveLength(8);
    expect(new Set(groups.batches).size).toBe(8);
    const moves = grow.filter((p) => p.action.type === 'MoveSlots');
    for (const p of moves)
      expect(p.operation?.slotMove).toEqual(p.action.type === 'MoveSlots' ? p.action.move : undefined);

    const shrink = converge(groups, baseSpec({ shards: 3 }));
    expect(groups.counts()).toEqual([1366, 1365, 1365]);
    expect(shrink.filter((p) => p.action.type === 'RetireShard').map((p) => p.operation?.shard)).toEqual([3]);
    // Shards 0 and 1 gave slots to shard 3 on the way up; shard 3 then gave some of them on to another group.
    // Before shard 3 went, those records were pointed at the slots' owners now (and every slot a group never held
    // got a record too), so no member routes a key to the retired group, by record or by hint.
    const retiredAt = shrink.findIndex((p) => p.action.type === 'RetireShard');
    const repointed = shrink.flatMap((p, i) => (p.action.type === 'RepointSlots' ? [i] : []));
    expect(repointed.length).toBeGreaterThan(0);
    expect(Math.max(...repointed)).toBeLessThan(retiredAt);
    // Each staying group, once: its records naming shard 3, and the slots it never held, toward their owners.
    expect(groups.repoints).toEqual(['0:1365>1,341>2', '1:1366>0,1365>2', '2:1366>0,1365>1']);
    expect(shrink.find((p) => p.action.type === 'RepointSlots')?.operation).toMatchObject({
      type: 'Reshard',
      step: 'RepointSlots',
      shard: 0,
      targetShards: 3,
    });
    expect(groups.danglingRecords()).toEqual([]);
    for (const [g, table] of groups.tables) {
      expect([g, table.filter((r) => r.state === 'absent' && r.peer === NO_PEER).length]).toEqual([g, 0]);
    }
  });

  test('a second reshard while one runs is queued behind the batch under way, says so, then replaces it', () => {
    const groups = new Groups(
      new Map([
        [0, [[0, 2047]]],
        [1, [[2048, 4095]]],
        [2, []],
        [3, []],
      ]),
    );
    const toFour = baseSpec({ shards: 4 });
    const running = plan(groups.observed(toFour, undefined), NOW, DEFAULT_PLANNER_OPTIONS);
    expect(running.operation).toMatchObject({ type: 'Reshard', step: 'MoveSlots', targetShards: 4 });
    groups.apply(running, toFour, true); // half-way when the user asks for 3 instead
    const toThree = baseSpec({ shards: 3 });
    const queued = plan(groups.observed(toThree, running.operation), NOW, DEFAULT_PLANNER_OPTIONS);
    expect(queued.action).toEqual({ type: 'MoveSlots', move: running.operation?.slotMove });
    expect(queued.operation).toMatchObject({ targetShards: 4 });
    expect(queued.operation?.message).toMatch(
      /^reshard to 3 shards queued: finishing the batch under way of the reshard to 4 shards first \(slots /,
    );
    const progressing = evaluate(progressingPolicies, {
      health: 'healthy',
      healthMessage: '',
      operation: queued.operation,
      volumes: { size: '1Gi', blocked: undefined, pending: [], total: 0 },
      version: { accepted: true, reason: 'Running', message: '' },
      podProblems: [],
      stepFailure: undefined,
      paused: false,
      shards: 3,
      warnings: [],
    });
    expect(progressing).toMatchObject({ status: 'True', reason: 'ReshardQueued' });
    groups.apply(queued, toThree, false);
    const next = plan(groups.observed(toThree, queued.operation), NOW, DEFAULT_PLANNER_OPTIONS);
    expect(next.operation).toMatchObject({ type: 'Reshard', targetShards: 3 });
    expect(next.operation?.message).toMatch(
      /^resharding to 3 shards: .*\(replaces the reshard to 4 shards\)$/,
    );
    converge(groups, toThree);
    expect(groups.counts()).toEqual([1366, 1365, 1365]);
  });

  test('paused: no new batch starts, but a batch under way is finished', () => {
    const groups = new Groups(
      new Map([
        [0, [[0, 2047]]],
        [1, [[2048, 4095]]],
        [2, []],
      ]),
    );
    const spec = baseSpec({ shards: 3, paused: true });
    const first = plan(groups.observed(spec, undefined), NOW, DEFAULT_PLANNER_OPTIONS);
    expect(first.action).toMatchObject({ type: 'Wait', reason: 'Paused' });
    expect(first.operation?.message).toMatch(
      /^paused between batches: would resharding to 3 shards: moving slots/,
    );

    const running = plan(groups.observed(baseSpec({ shards: 3 }), undefined), NOW, DEFAULT_PLANNER_OPTIONS);
    groups.apply(running, spec, true); // half-way, then the user pauses
    const resumed = plan(groups.observed(spec, running.operation), NOW, DEFAULT_PLANNER_OPTIONS);
    expect(resumed.action).toMatchObject({ type: 'MoveSlots', move: { firstSlot: 1366, lastSlot: 1621 } });
  });
});
