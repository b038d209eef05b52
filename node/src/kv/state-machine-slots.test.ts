// The state machine as one group of a sharded keyspace: the fence on slots it does not serve, and a whole slot move
// between two groups driven through real commands (import, freeze, export, ingest, activate, release).
import { KvStateMachine, kvStateMachineOptions } from './state-machine.js';
import { SlotOwnership, type SlotMoveRequest } from '../sharding/slot-ownership.js';
import { keySlot } from '../../shared/sharding/slot.js';
import { b, command, del, interval, prefix, put, text } from '../../testing/kv/test-helpers.js';
import type { Command, CommandResult, IngestOp, Operation, SessionRef } from './types.js';

/** A group whose log index advances with every command it is given. */
class Group {
  index = 0;
  constructor(readonly machine: KvStateMachine) {}
  static of(ownership: () => SlotOwnership): Group {
    return new Group(new KvStateMachine(kvStateMachineOptions(undefined, 1, ownership)));
  }
  run(op: Operation, session?: SessionRef, timestampMs = 1): CommandResult {
    const c: Command = session === undefined ? command(op, timestampMs) : command(op, timestampMs, session);
    return this.machine.apply(++this.index, c).result;
  }
  move(step: SlotMoveRequest['step'], slots: number[], peer: number, epoch: number): CommandResult {
    return this.run({ kind: 'moveSlots', request: { step, slots, peer, epoch } });
  }
}

/** Keys, found by trial, whose slots fall in the first and the second half of a 2-shard layout. */
function keysIn(half: 0 | 1, count: number, stem = 'k'): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const k = `${stem}${i}`;
    if ((keySlot(k) < 2048 ? 0 : 1) === half) keys.push(k);
  }
  return keys;
}

describe('KvStateMachine as one group of a sharded keyspace', () => {
  it('a delete command says how many slots the group served when it applied (a fan-out sums them)', () => {
    const group = Group.of(() => SlotOwnership.initial(0, 2));
    for (const k of keysIn(0, 3)) group.run(put(k, 'v'));
    expect(group.run(del(prefix('k')))).toMatchObject({ kind: 'delete', deleted: 3, slotsServed: 2048 });
    const all = Group.of(() => SlotOwnership.all());
    expect(all.run(del(prefix('k')))).toMatchObject({ kind: 'delete', deleted: 0, slotsServed: 4096 });
  });

  it('refuses keys of slots it does not serve, with a redirect, and does not record the refusal', () => {
    const group = Group.of(() => SlotOwnership.initial(0, 2));
    const [mine] = keysIn(0, 1);
    const [theirs] = keysIn(1, 1);
    expect(group.run(put(mine!, 'v'))).toMatchObject({ kind: 'put', revision: 1 });
    const session = { clientId: 'c', sequence: 1 };
    expect(group.run(put(theirs!, 'v'), session)).toEqual({
      kind: 'wrongShard',
      redirect: { slot: keySlot(theirs!), epoch: 0, owner: undefined, moving: false },
    });
    expect(group.machine.revision).toBe(1);
    // A client this group has no session for, mid-sequence, is redirected, not refused as unknown: the fence comes
    // first, so a retry that followed a moved slot to the wrong group still finds its way.
    expect(group.run(put(theirs!, 'v'), { clientId: 'elsewhere', sequence: 9 })).toMatchObject({
      kind: 'wrongShard',
    });
    // The refusal was not recorded: the same sequence is still new here.
    expect(group.run(put(mine!, 'w'), session)).toMatchObject({ kind: 'put', revision: 2 });
    // A transaction is refused if any of its keys, on either branch, is elsewhere.
    const txn: Operation = {
      kind: 'txn',
      compare: [{ key: b(mine!), operator: 'equal', target: { kind: 'exists', exists: true } }],
      success: [put(mine!, 'x')],
      failure: [put(theirs!, 'x')],
    };
    expect(group.run(txn)).toMatchObject({ kind: 'wrongShard' });
    expect(group.machine.get(mine!)?.value).toEqual(b('w'));
  });

  it('scans only the slots it serves, and refuses a scan confined to a slot it does not serve', () => {
    const group = Group.of(() => SlotOwnership.initial(0, 2));
    const mine = keysIn(0, 5);
    for (const k of mine) group.run(put(k, 'v'));
    const all = group.machine.range(prefix(''), { limit: 0, keysOnly: true, countOnly: false });
    expect(all.kvs.map((kv) => text(kv.key))).toEqual([...mine].sort());
    expect(group.machine.fenceRead(interval('a', 'z'))).toBeUndefined();
    const [theirs] = keysIn(1, 1);
    expect(group.machine.fenceRead({ kind: 'key', key: b(theirs!) })).toMatchObject({
      slot: keySlot(theirs!),
    });
    // A tagged prefix pins one slot.
    const tag = '{user:1}/';
    const served = group.machine.ownership.serves(keySlot('user:1'));
    expect(group.machine.fenceRead(prefix(tag)) === undefined).toBe(served);
  });

  it('fences a write applied after the freeze, whenever it was proposed', () => {
    const group = Group.of(() => SlotOwnership.all());
    const k = 'frozen';
    group.run(put(k, 'before'));
    expect(group.move('freeze', [keySlot(k)], 1, 2)).toMatchObject({ kind: 'slots', ok: true, changed: 1 });
    expect(group.run(put(k, 'after'))).toEqual({
      kind: 'wrongShard',
      redirect: { slot: keySlot(k), epoch: 2, owner: 1, moving: true },
    });
    expect(group.run(del({ kind: 'key', key: b(k) }))).toMatchObject({ kind: 'wrongShard' });
    expect(group.machine.get(k)).toBeUndefined(); // not served: invisible, though still held for the export
    expect(
      group.machine.exportSlots({ slots: [keySlot(k)], epoch: 2, maxKeys: 10, maxBytes: 1000 }),
    ).toMatchObject({
      ok: true,
      kvs: [{ key: b(k), value: b('before'), version: 1 }],
    });
  });

  it('moves a slot with its keys, versions and client sessions, then forgets it at the source', () => {
    const source = Group.of(() => SlotOwnership.all());
    const target = Group.of(() => SlotOwnership.initial(1, 1));
    const slotKeys = [`{s}a`, `{s}b`, `{s}c`];
    const slot = keySlot('s');
    const other = 'elsewhere';
    expect(keySlot(other)).not.toBe(slot);
    for (const k of slotKeys) source.run(put(k, `v-${k}`));
    source.run(put(slotKeys[0]!, 'second'));
    source.run(put(other, 'stays'));
    // A client's write the source applied; the client never saw the answer and will retry it.
    const retried = { clientId: 'client/shard-0', sequence: 1 };
    const first = source.run(put(slotKeys[1]!, 'once'), retried, 5);

    expect(target.move('import', [slot], 0, 2)).toMatchObject({ ok: true });
    expect(source.move('freeze', [slot], 1, 2)).toMatchObject({ ok: true });
    const pages: IngestOp[] = [];
    let after: Uint8Array | undefined;
    for (;;) {
      const page = source.machine.exportSlots({
        slots: [slot],
        epoch: 2,
        after,
        maxKeys: 2,
        maxBytes: 1 << 20,
      });
      if (!page.ok) throw new Error(page.reason);
      const start: IngestOp['start'] =
        after === undefined ? { kind: 'first' } : { kind: 'after', key: after };
      after = page.kvs.at(-1)?.key;
      pages.push({ kind: 'ingest', from: 0, epoch: 2, start, kvs: page.kvs, seal: [], sessions: [] });
      if (!page.more) break;
    }
    expect(pages.map((p) => p.kvs.length)).toEqual([2, 1]);
    pages[pages.length - 1] = { ...pages.at(-1)!, seal: [slot], sessions: source.machine.sessions() };
    expect(target.move('activate', [slot], 0, 2)).toMatchObject({ ok: false });
    expect(target.move('activate', [slot], 0, 2)).toHaveProperty(
      'reason',
      'slot ' + slot + ': the import at epoch 2 is not sealed: its data is not all in',
    );
    for (const page of pages) expect(target.run(page)).toMatchObject({ kind: 'slots', ok: true });
    expect(target.machine.get(slotKeys[0]!)).toBeUndefined(); // sealed, not yet served
    expect(target.move('activate', [slot], 0, 2)).toMatchObject({ ok: true, changed: 1 });
    expect(source.move('release', [slot], 1, 2)).toMatchObject({ ok: true, changed: 1 });

    expect(target.machine.get(slotKeys[0]!)).toMatchObject({ value: b('second'), version: 2 });
    expect(target.machine.get(slotKeys[1]!)).toMatchObject({ value: b('once'), version: 2 });
    expect(target.machine.keyCount).toBe(3);
    expect(source.machine.keyCount).toBe(1); // the slot's keys are gone from the source, the other key stays
    expect(source.machine.get(other)?.value).toEqual(b('stays'));
    expect(source.run(put(slotKeys[0]!, 'late'))).toEqual({
      kind: 'wrongShard',
      redirect: { slot, epoch: 2, owner: 1, moving: false },
    });
    // The retry lands on the target and is answered from the merged session, not applied a second time.
    expect(target.run(put(slotKeys[1]!, 'once'), retried, 9)).toEqual(first);
    expect(target.machine.get(slotKeys[1]!)?.version).toBe(2);
    // Both groups' snapshots restore to themselves.
    for (const group of [source, target]) {
      const bytes = group.machine.snapshot();
      expect(KvStateMachine.restore(bytes, kvStateMachineOptions()).snapshot()).toEqual(bytes);
    }
  });

  it('drops what it ingested when the move is aborted, and refuses data for slots it is not importing', () => {
    const target = Group.of(() => SlotOwnership.initial(1, 1));
    const k = 'abandoned';
    const slot = keySlot(k);
    const batch: IngestOp = {
      kind: 'ingest',
      from: 0,
      epoch: 3,
      start: { kind: 'first' },
      kvs: [{ key: b(k), value: b('v'), version: 1 }],
      seal: [],
      sessions: [],
    };
    const refused = target.run(batch);
    expect(refused).toMatchObject({ kind: 'slots', ok: false });
    expect(refused.kind === 'slots' && refused.reason).toMatch(
      /not being imported at epoch 3 \(it is absent/,
    );
    expect(target.machine.revision).toBe(0);
    target.move('import', [slot], 0, 3);
    expect(target.run({ ...batch, epoch: 2 })).toMatchObject({ ok: false });
    expect(target.run(batch)).toMatchObject({ ok: true, changed: 1 });
    expect(target.machine.keyCount).toBe(1);
    expect(target.move('abort', [slot], 0, 3)).toMatchObject({ ok: true, changed: 1 });
    expect(target.machine.keyCount).toBe(0);
    expect(target.machine.ownership.stateOf(slot)).toBe('absent');
  });

  it('exports only slots it is giving away at that epoch', () => {
    const group = Group.of(() => SlotOwnership.all());
    expect(group.machine.exportSlots({ slots: [1], epoch: 2, maxKeys: 1, maxBytes: 1 })).toEqual({
      ok: false,
      reason: 'slot 1 is not leaving at epoch 2 (it is owned, epoch 0)',
    });
    group.move('freeze', [1], 1, 2);
    expect(group.machine.exportSlots({ slots: [1], epoch: 2, maxKeys: 0, maxBytes: 1 })).toMatchObject({
      ok: false,
    });
    expect(group.machine.exportSlots({ slots: [1], epoch: 3, maxKeys: 1, maxBytes: 1 })).toMatchObject({
      ok: false,
    });
    expect(group.machine.exportSlots({ slots: [1], epoch: 2, maxKeys: 1, maxBytes: 1 })).toEqual({
      ok: true,
      kvs: [],
      more: false,
    });
  });
});
