// The coordinator loop that the operator will run (node/shared/sharding/move-driver.ts), against real state
// machines behind the same interface the gRPC API serves: a batch moves with its keys and sessions; a coordinator
// that stops mid-move and a second one that resumes at the same epoch finish it without a second copy of any key
// winning over a newer write; a half-done move of an older epoch is resolved first.
import { keySlot } from '../../shared/sharding/slot.js';
import {
  driveMove,
  MoveStuckError,
  nextEpoch,
  NO_PEER,
  type ExportPage,
  type SlotGroups,
  type StepOutcome,
} from '../../shared/sharding/move-driver.js';
import { ByteReader, ByteWriter } from '../../src/kv/binary.js';
import { readSessions, writeSessions } from '../../src/kv/session-codec.js';
import { KvStateMachine, kvStateMachineOptions } from '../../src/kv/state-machine.js';
import type { CommandResult, Operation, SessionRef } from '../../src/kv/types.js';
import { SlotOwnership } from '../../src/sharding/slot-ownership.js';
import { b, put } from '../kv/test-helpers.js';

class Group {
  index = 0;
  readonly machine: KvStateMachine;
  constructor(shard: number) {
    this.machine = new KvStateMachine(
      kvStateMachineOptions(undefined, shard + 1, () => SlotOwnership.initial(shard, 2)),
    );
  }
  run(op: Operation, session?: SessionRef): CommandResult {
    const command = session === undefined ? { timestampMs: 1, op } : { timestampMs: 1, session, op };
    return this.machine.apply(++this.index, command).result;
  }
}

function slotsResult(r: CommandResult): StepOutcome {
  if (r.kind !== 'slots') throw new Error(`unexpected ${r.kind}`);
  return { ok: r.ok, reason: r.reason };
}

/** The slot-move API over in-process groups; `calls` counts requests, so a test can stop a coordinator mid-move. */
class LocalSlotGroups implements SlotGroups {
  calls = 0;
  constructor(readonly groups: Group[]) {}
  status(shard: number, slots: readonly number[]) {
    this.calls++;
    const o = this.groups[shard]!.machine.ownership;
    return Promise.resolve({
      epoch: o.epoch,
      records: slots.map((s) => ({
        state: o.stateOf(s),
        epoch: o.moveEpochOf(s),
        peer: o.peerOf(s) ?? NO_PEER,
      })),
    });
  }
  step(
    shard: number,
    step: 'import' | 'freeze' | 'activate' | 'release' | 'abort',
    slots: readonly number[],
    peer: number,
    epoch: number,
  ) {
    this.calls++;
    return Promise.resolve(
      slotsResult(this.groups[shard]!.run({ kind: 'moveSlots', request: { step, slots, peer, epoch } })),
    );
  }
  exportPage(
    shard: number,
    slots: readonly number[],
    epoch: number,
    after: Uint8Array | undefined,
  ): Promise<ExportPage> {
    this.calls++;
    const m = this.groups[shard]!.machine;
    const page = m.exportSlots({
      slots,
      epoch,
      ...(after !== undefined ? { after } : {}),
      maxKeys: 3,
      maxBytes: 1 << 20,
    });
    if (!page.ok) return Promise.resolve(page);
    const w = new ByteWriter();
    writeSessions(w, m.sessions());
    return Promise.resolve({
      ok: true,
      kvs: page.kvs,
      more: page.more,
      sessions: page.more ? new Uint8Array() : w.finish(),
    });
  }
  ingest(
    shard: number,
    from: number,
    epoch: number,
    kvs: readonly { key: Uint8Array; value: Uint8Array; version: number }[],
    seal: readonly number[],
    sessions: Uint8Array,
  ) {
    this.calls++;
    const decoded = sessions.length === 0 ? [] : readSessions(new ByteReader(sessions, 'sessions'));
    return Promise.resolve(
      slotsResult(this.groups[shard]!.run({ kind: 'ingest', from, epoch, kvs, seal, sessions: decoded })),
    );
  }
}

/** Keys in the given slots, found by trial. */
function keysIn(slots: readonly number[], count: number): string[] {
  const want = new Set(slots);
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (want.has(keySlot(`k${i}`))) keys.push(`k${i}`);
  return keys;
}

const BATCH = Array.from({ length: 16 }, (_, i) => i); // slots 0..15: shard 0's in the creation layout

describe('driveMove over real state machines', () => {
  test('moves a batch with its keys and the source’s sessions; the source drops them', async () => {
    const groups = [new Group(0), new Group(1)];
    const keys = keysIn(BATCH, 10);
    keys.forEach((k, i) => groups[0]!.run(put(k, `v${i}`), { clientId: 'c', sequence: i + 1 }));
    const api = new LocalSlotGroups(groups);
    const batch = { slots: BATCH, from: 0, to: 1 };
    const epoch = await nextEpoch(api, batch);
    expect(epoch).toBe(1);
    const report = await driveMove(api, batch, epoch);
    expect(report).toMatchObject({ keysCopied: 10, pages: 4, strays: 0 });
    for (const [i, k] of keys.entries()) {
      expect(groups[1]!.machine.get(k)?.value).toEqual(b(`v${i}`));
      expect(groups[0]!.machine.get(k)).toBeUndefined();
    }
    expect(groups[1]!.machine.ownership.ownedCount).toBe(2048 + 16);
    expect(groups[0]!.machine.ownership.ownedCount).toBe(2048 - 16);
    // The client's retry of its last write is answered by the new owner from the moved session, not applied again.
    const retry = groups[1]!.run(put(keys[9]!, 'stale'), { clientId: 'c', sequence: 10 });
    expect(retry).toMatchObject({ kind: 'put' });
    expect(groups[1]!.machine.get(keys[9]!)?.value).toEqual(b('v9'));
  });

  test('a coordinator that stops mid-copy is bounded; another resumes at the same epoch and finishes', async () => {
    const groups = [new Group(0), new Group(1)];
    const keys = keysIn(BATCH, 12);
    keys.forEach((k, i) => groups[0]!.run(put(k, `v${i}`)));
    const api = new LocalSlotGroups(groups);
    const batch = { slots: BATCH, from: 0, to: 1 };
    const epoch = await nextEpoch(api, batch);
    await expect(driveMove(api, batch, epoch, { maxRounds: 4 })).rejects.toBeInstanceOf(MoveStuckError);
    expect(groups[0]!.machine.ownership.stateOf(0)).toBe('leaving'); // stopped with the batch frozen
    const report = await driveMove(new LocalSlotGroups(groups), batch, epoch);
    expect(report.keysCopied).toBe(12); // the second coordinator copies from the start: ingest is idempotent
    for (const [i, k] of keys.entries()) expect(groups[1]!.machine.get(k)?.value).toEqual(b(`v${i}`));
    expect(groups[0]!.machine.ownership.stateOf(0)).toBe('absent');
  });

  test('a half-done import of an older epoch in the target is aborted first, then the move runs at its own', async () => {
    const groups = [new Group(0), new Group(1)];
    const api = new LocalSlotGroups(groups);
    const batch = { slots: BATCH, from: 0, to: 1 };
    await api.step(1, 'import', BATCH, 0, 1); // a coordinator that lost its lease got this far
    const epoch = await nextEpoch(api, batch);
    expect(epoch).toBe(2);
    const report = await driveMove(api, batch, epoch);
    expect(report.strays).toBe(1);
    expect(groups[1]!.machine.ownership.stateOf(0)).toBe('owned');
    expect(groups[1]!.machine.ownership.moveEpochOf(0)).toBe(2);
  });
});
