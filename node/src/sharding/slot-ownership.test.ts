import { NO_PEER, SlotOwnership, SlotOwnershipError, type SlotMoveRequest } from './slot-ownership.js';
import { seededRandom } from '../random/prng.js';
import { SLOT_COUNT } from '../../shared/sharding/slot.js';

const move = (
  step: SlotMoveRequest['step'],
  slots: number[],
  peer: number,
  epoch: number,
): SlotMoveRequest => ({
  step,
  slots,
  peer,
  epoch,
});

describe('SlotOwnership', () => {
  it('gives a cluster of one shard every slot, and splits a bootstrap layout evenly', () => {
    expect(SlotOwnership.all().servesEverySlot).toBe(true);
    const counts = [0, 1, 2].map((shard) => SlotOwnership.initial(shard, 3).ownedCount);
    expect(counts).toEqual([1366, 1365, 1365]);
    for (let slot = 0; slot < SLOT_COUNT; slot += 97) {
      const owners = [0, 1, 2].filter((shard) => SlotOwnership.initial(shard, 3).serves(slot));
      expect(owners).toHaveLength(1);
    }
    expect(SlotOwnership.initial(3, 3).ownedCount).toBe(0); // a group added by a reshard starts empty
    expect(() => SlotOwnership.initial(0, 0)).toThrow(SlotOwnershipError);
  });

  it('moves slots through import, freeze, activate, release, serving each from exactly one group', () => {
    const source = SlotOwnership.all();
    const target = SlotOwnership.initial(1, 1);
    expect(target.apply(move('import', [7, 8], 0, 2))).toEqual({ ok: true, changed: 2, dropped: [] });
    expect(target.serves(7)).toBe(false);
    expect(target.redirect(7)).toEqual({ slot: 7, epoch: 2, owner: 0, moving: true });
    expect(source.apply(move('freeze', [7, 8], 1, 2))).toMatchObject({ ok: true, changed: 2 });
    expect(source.serves(7)).toBe(false);
    expect(source.redirect(8)).toEqual({ slot: 8, epoch: 2, owner: 1, moving: true });
    expect(source.movingCount).toBe(2);
    expect(target.apply(move('activate', [7, 8], 0, 2))).toEqual({
      ok: false,
      reason: 'slot 7: the import at epoch 2 is not sealed: its data is not all in',
    });
    expect(target.apply(move('seal', [7, 8], 0, 2))).toMatchObject({ ok: true, changed: 2 });
    expect(target.stateOf(7)).toBe('imported');
    expect(target.serves(7)).toBe(false);
    expect(target.apply(move('activate', [7, 8], 0, 2))).toMatchObject({ ok: true, changed: 2 });
    expect(target.serves(7) && target.serves(8)).toBe(true);
    expect(source.apply(move('release', [7, 8], 1, 2))).toEqual({ ok: true, changed: 2, dropped: [7, 8] });
    expect(source.redirect(7)).toEqual({ slot: 7, epoch: 2, owner: 1, moving: false });
    expect(source.ownedCount).toBe(SLOT_COUNT - 2);
    expect(source.movingCount).toBe(0);
  });

  it('treats every repeated step as a no-op, so a coordinator can resume where it crashed', () => {
    const source = SlotOwnership.all();
    const target = SlotOwnership.initial(1, 1);
    const steps: [SlotOwnership, SlotMoveRequest][] = [
      [target, move('import', [1], 0, 2)],
      [source, move('freeze', [1], 1, 2)],
      [target, move('seal', [1], 0, 2)],
      [target, move('activate', [1], 0, 2)],
      [source, move('release', [1], 1, 2)],
    ];
    for (const [group, request] of steps) {
      expect(group.apply(request)).toMatchObject({ ok: true, changed: 1 });
      expect(group.apply(request)).toEqual({ ok: true, changed: 0, dropped: [] });
    }
  });

  it('aborts a move before activation, and refuses to once the target serves', () => {
    const source = SlotOwnership.all();
    const target = SlotOwnership.initial(1, 1);
    target.apply(move('import', [5], 0, 3));
    source.apply(move('freeze', [5], 1, 3));
    target.apply(move('seal', [5], 0, 3));
    expect(target.apply(move('abort', [5], 0, 3))).toEqual({ ok: true, changed: 1, dropped: [5] });
    expect(source.apply(move('abort', [5], 1, 3))).toMatchObject({ ok: true, changed: 1 });
    expect(source.serves(5)).toBe(true);
    expect(target.stateOf(5)).toBe('absent');
    // Repeated aborts find nothing to undo.
    expect(source.apply(move('abort', [5], 1, 3))).toEqual({ ok: true, changed: 0, dropped: [] });
    expect(target.apply(move('abort', [5], 0, 3))).toEqual({ ok: true, changed: 0, dropped: [] });

    target.apply(move('import', [5], 0, 4));
    source.apply(move('freeze', [5], 1, 4));
    target.apply(move('seal', [5], 0, 4));
    target.apply(move('activate', [5], 0, 4));
    expect(target.apply(move('abort', [5], 0, 4))).toEqual({
      ok: false,
      reason: 'slot 5: already activated at epoch 4: too late to abort',
    });
    source.apply(move('release', [5], 1, 4));
    expect(source.apply(move('abort', [5], 1, 4))).toMatchObject({ ok: false });
  });

  it('refuses steps that do not fit, changing nothing: out of order, wrong epoch, stale coordinator', () => {
    const group = SlotOwnership.all();
    const before = group.toSpec();
    expect(group.apply(move('release', [1], 1, 2))).toMatchObject({ ok: false });
    expect(group.apply(move('activate', [1], 1, 2))).toMatchObject({ ok: false });
    expect(group.apply(move('import', [1], 1, 2))).toMatchObject({ ok: false }); // already owned
    // One bad slot refuses the whole step.
    group.apply(move('freeze', [10], 1, 5));
    const mid = group.toSpec();
    expect(group.apply(move('freeze', [10, 9], 2, 5))).toEqual({
      ok: false,
      reason: 'slot 10: cannot freeze a slot that is leaving (epoch 5)',
    });
    expect(group.toSpec()).toEqual(mid);
    expect(group.apply(move('release', [10], 1, 4))).toMatchObject({ ok: false }); // another move's epoch
    // A coordinator still on an older epoch cannot start a move.
    expect(group.apply(move('freeze', [11], 1, 4))).toEqual({
      ok: false,
      reason: 'freeze at epoch 4: this group has already seen epoch 5',
    });
    expect(group.apply(move('abort', [10], 1, 5))).toMatchObject({ ok: true });
    expect(group.toSpec().runs).toEqual(before.runs);
  });

  it('never restarts an aborted move under its old epoch: a retry is a new move', () => {
    // Found by the multi-group simulation: a move aborted and restarted at the same epoch let a coordinator that
    // resumed copying after its earlier pages seal the slot with those pages missing, and a write was lost.
    const source = SlotOwnership.all();
    const target = SlotOwnership.initial(1, 1);
    target.apply(move('import', [5], 0, 2));
    source.apply(move('freeze', [5], 1, 2));
    target.apply(move('abort', [5], 0, 2));
    source.apply(move('abort', [5], 1, 2));
    expect(target.apply(move('import', [5], 0, 2))).toEqual({
      ok: false,
      reason: "slot 5: epoch 2 is not newer than this group's epoch 2: a move at that epoch already ran here",
    });
    expect(source.apply(move('freeze', [5], 1, 2))).toMatchObject({ ok: false });
    expect(target.apply(move('import', [5], 0, 3))).toMatchObject({ ok: true, changed: 1 });
    expect(source.apply(move('freeze', [5], 1, 3))).toMatchObject({ ok: true, changed: 1 });
  });

  it('says whether an import at an epoch is under way (what a copy cursor of that epoch belongs to)', () => {
    const target = SlotOwnership.initial(1, 1);
    expect(target.importsAt(2)).toBe(false);
    target.apply(move('import', [7, 8], 0, 2));
    expect(target.importsAt(2)).toBe(true);
    expect(target.importsAt(3)).toBe(false);
    target.apply(move('seal', [7, 8], 0, 2));
    expect(target.importsAt(2)).toBe(false); // imported: the copy is over
  });

  it('repoints a slot it gave away at its owner now, keeping newer news, refusing slots it holds', () => {
    // Group 0 gave slots 7 and 8 to group 1 at epoch 2; group 1 later gave them to group 2 at epoch 5.
    const group = SlotOwnership.all();
    group.apply(move('freeze', [7, 8], 1, 2));
    group.apply(move('release', [7, 8], 1, 2));
    expect(group.redirect(7)).toEqual({ slot: 7, epoch: 2, owner: 1, moving: false });

    expect(group.apply(move('repoint', [7, 8], 2, 5))).toEqual({ ok: true, changed: 2, dropped: [] });
    expect(group.redirect(7)).toEqual({ slot: 7, epoch: 5, owner: 2, moving: false });
    expect(group.peerOf(8)).toBe(2);
    expect(group.moveEpochOf(8)).toBe(5);
    expect(group.epoch).toBe(5); // a move at epoch 5 happened: none may start here at or below it
    expect(group.apply(move('repoint', [7, 8], 2, 5))).toEqual({ ok: true, changed: 0, dropped: [] });

    // A stale coordinator (older news) changes nothing; served slots are never repointed.
    expect(group.apply(move('repoint', [7], 1, 3))).toEqual({ ok: true, changed: 0, dropped: [] });
    expect(group.peerOf(7)).toBe(2);
    expect(group.apply(move('repoint', [7, 9], 3, 6))).toEqual({
      ok: false,
      reason:
        'slot 9: cannot repoint a slot that is owned: only a slot this group gave away points elsewhere',
    });
    expect(group.peerOf(7)).toBe(2); // all or nothing
    expect(group.ownedCount).toBe(SLOT_COUNT - 2);
    expect(SlotOwnership.fromSpec(group.toSpec()).toSpec()).toEqual(group.toSpec());
  });

  it('rejects malformed requests', () => {
    const group = SlotOwnership.all();
    expect(group.apply(move('freeze', [], 1, 2))).toEqual({ ok: false, reason: 'no slots' });
    expect(group.apply(move('freeze', [1, 1], 1, 2))).toEqual({
      ok: false,
      reason: 'slot 1 is listed twice',
    });
    expect(group.apply(move('freeze', [SLOT_COUNT], 1, 2))).toMatchObject({ ok: false });
    expect(group.apply(move('freeze', [1], 1, 0))).toMatchObject({ ok: false });
    expect(group.apply(move('freeze', [1], NO_PEER, 2))).toMatchObject({ ok: false });
    expect(() => group.serves(-1)).toThrow(SlotOwnershipError);
  });

  it('round-trips through its spec and rejects impossible ones', () => {
    const group = SlotOwnership.initial(0, 2);
    group.apply(move('freeze', [3, 4], 1, 2));
    group.apply(move('import', [3000], 1, 3));
    const spec = group.toSpec();
    expect(SlotOwnership.fromSpec(spec).toSpec()).toEqual(spec);
    expect(spec.runs.map((r) => r.state)).toEqual([
      'owned',
      'leaving',
      'owned',
      'absent',
      'importing',
      'absent',
    ]);
    const gap = { ...spec, runs: spec.runs.slice(1) };
    expect(() => SlotOwnership.fromSpec(gap)).toThrow(/does not continue at slot 0/);
    const moveless = { ...spec, runs: spec.runs.map((r) => ({ ...r, epoch: 0 })) };
    expect(() => SlotOwnership.fromSpec(moveless)).toThrow(/leaving without a move/);
    expect(() => SlotOwnership.fromSpec({ ...spec, epoch: 1 })).toThrow(/beyond 1/);
  });

  // A coordinator that crashes, resumes, repeats, reorders and aborts: random steps of moves between two groups,
  // each sent to either group at the current or an older epoch. Two steps need a fact about the other group, which
  // the real system supplies: a seal carries data the source exports only while it is leaving at that epoch, and
  // the source aborts only after the target answered its own abort. The check after every step: no slot served
  // by both groups. Each planted bug drops one of those two facts, and the check must catch it.
  type Coordinator = { sealNeedsLeavingSource: boolean; sourceAbortNeedsTargetGone: boolean };
  const honest: Coordinator = { sealNeedsLeavingSource: true, sourceAbortNeedsTargetGone: true };

  function doubleServed(coordinator: Coordinator, seeds: number): { violation?: string; moved: number } {
    const steps: SlotMoveRequest['step'][] = ['import', 'freeze', 'seal', 'activate', 'release', 'abort'];
    // The protocol's order, as [step, at the target?]; an abort goes target first, then source.
    const forward: [SlotMoveRequest['step'], boolean][] = [
      ['import', true],
      ['freeze', false],
      ['seal', true],
      ['activate', true],
      ['release', false],
    ];
    const backward: [SlotMoveRequest['step'], boolean][] = [
      ['abort', true],
      ['abort', false],
    ];
    let moved = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const random = seededRandom(seed);
      const groups = [SlotOwnership.initial(0, 2), SlotOwnership.initial(1, 2)] as const;
      const slots = [0, 1, 2048, 2049];
      let epoch = 1;
      // One move in progress per slot: its plan, and how far along it is.
      const moves = new Map(
        slots.map((slot) => [
          slot,
          { from: groups[0].serves(slot) ? 0 : 1, epoch: 0, plan: forward, next: 5 },
        ]),
      );
      for (let i = 0; i < 300; i++) {
        const slot = slots[Math.floor(random() * slots.length)]!;
        const m = moves.get(slot)!;
        if (m.next >= m.plan.length) Object.assign(m, { epoch: ++epoch, plan: forward, next: 0 });
        if (m.plan === forward && m.next < 3 && random() < 0.1) Object.assign(m, { plan: backward, next: 0 });
        let step: SlotMoveRequest['step'];
        let at: number;
        let e = m.epoch;
        const planned = m.plan[m.next]!;
        if (random() < 0.7) {
          [step, at] = [planned[0], planned[1] ? 1 - m.from : m.from];
          m.next++; // whether or not it applies: a coordinator that moves on regardless
        } else {
          // A stale, repeated or confused coordinator: any step, either group, maybe an older epoch.
          step = steps[Math.floor(random() * steps.length)]!;
          at = random() < 0.5 ? 0 : 1;
          if (random() < 0.3) e = Math.max(1, e - 1);
        }
        const group = groups[at as 0 | 1];
        const other = groups[(1 - at) as 0 | 1];
        const sourceFrozen = other.stateOf(slot) === 'leaving' && other.moveEpochOf(slot) === e;
        if (coordinator.sealNeedsLeavingSource && step === 'seal' && !sourceFrozen) continue;
        const targetHolds = ['importing', 'imported', 'owned'].includes(other.stateOf(slot));
        const sourceAbort = step === 'abort' && group.stateOf(slot) === 'leaving';
        if (coordinator.sourceAbortNeedsTargetGone && sourceAbort && targetHolds) continue;
        const outcome = group.apply(move(step, [slot], 1 - at, e));
        if (step === 'release' && outcome.ok && outcome.changed > 0) {
          moved++;
          m.from = 1 - m.from;
        }
        if (step === 'abort' && outcome.ok && group.serves(slot)) m.from = at; // the source took it back
        for (const s of slots) {
          if (groups[0].serves(s) && groups[1].serves(s)) {
            return { violation: `seed ${seed} step ${i}: slot ${s} served twice`, moved };
          }
        }
      }
    }
    return { moved };
  }

  it('never lets two groups serve one slot under an honest coordinator (300 seeds × 300 steps)', () => {
    const run = doubleServed(honest, 300);
    expect(run.violation).toBeUndefined();
    expect(run.moved).toBeGreaterThan(100); // the random coordinator does finish moves, so the check saw some
  });

  it('catches a planted bug: the target seals (and then serves) data the source never froze', () => {
    expect(doubleServed({ ...honest, sealNeedsLeavingSource: false }, 300).violation).toMatch(/served twice/);
  });

  it('catches a planted bug: the source takes a slot back while the target may still activate it', () => {
    expect(doubleServed({ ...honest, sourceAbortNeedsTargetGone: false }, 300).violation).toMatch(
      /served twice/,
    );
  });
});
