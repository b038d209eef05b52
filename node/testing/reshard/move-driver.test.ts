// The coordinator loop that the operator will run (node/shared/sharding/move-driver.ts), against real state
// machines behind the same interface the gRPC API serves: a batch moves with its keys and sessions; a coordinator
// that stops mid-move and a second one that resumes at the same epoch finish it without a second copy of any key;
// a half-done move of an older epoch is resolved first.
import { keySlot } from '../../shared/sharding/slot.js';
import { driveMove, MoveStuckError, nextEpoch } from '../../shared/sharding/move-driver.js';
import { InProcessGroup, InProcessSlotGroups } from './in-process-slot-groups.js';
import { b, put } from '../kv/test-helpers.js';

/** Group `shard` of a cluster created with two shards. */
const group = (shard: number): InProcessGroup => new InProcessGroup(shard, 2);

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
    const groups = [group(0), group(1)];
    const keys = keysIn(BATCH, 10);
    keys.forEach((k, i) => groups[0]!.run(put(k, `v${i}`), { clientId: 'c', sequence: i + 1 }));
    const api = new InProcessSlotGroups(groups);
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
    const groups = [group(0), group(1)];
    const keys = keysIn(BATCH, 12);
    keys.forEach((k, i) => groups[0]!.run(put(k, `v${i}`)));
    const api = new InProcessSlotGroups(groups);
    const batch = { slots: BATCH, from: 0, to: 1 };
    const epoch = await nextEpoch(api, batch);
    // import, freeze, then two pages of 3 keys: stopped with the batch frozen and half of it copied.
    await expect(driveMove(api, batch, epoch, { maxRounds: 4 })).rejects.toBeInstanceOf(MoveStuckError);
    expect(groups[0]!.machine.ownership.stateOf(0)).toBe('leaving');
    expect(api.keysIngested).toBe(6);
    const standby = new InProcessSlotGroups(groups);
    const report = await driveMove(standby, batch, epoch);
    // The second coordinator goes on after the target's copy cursor: it sends only the 6 keys not yet in, and no
    // key of the batch is ingested twice over both coordinators.
    expect(report).toMatchObject({ keysCopied: 6, pages: 2 });
    expect(standby.keysIngested).toBe(6);
    expect(api.keysIngested + standby.keysIngested).toBe(keys.length);
    for (const [i, k] of keys.entries()) expect(groups[1]!.machine.get(k)?.value).toEqual(b(`v${i}`));
    expect(groups[0]!.machine.ownership.stateOf(0)).toBe('absent');
  });

  test('against groups that report no copy cursor, a coordinator goes on from its own position', async () => {
    const groups = [group(0), group(1)];
    const keys = keysIn(BATCH, 12);
    keys.forEach((k, i) => groups[0]!.run(put(k, `v${i}`)));
    const api = new InProcessSlotGroups(groups, undefined, undefined, false);
    const batch = { slots: BATCH, from: 0, to: 1 };
    const report = await driveMove(api, batch, await nextEpoch(api, batch));
    expect(report).toMatchObject({ keysCopied: 12, pages: 4 });
    expect(api.keysIngested).toBe(12);
    for (const [i, k] of keys.entries()) expect(groups[1]!.machine.get(k)?.value).toEqual(b(`v${i}`));
  });

  test('a half-done import of an older epoch in the target is aborted first, then the move runs at its own', async () => {
    const groups = [group(0), group(1)];
    const api = new InProcessSlotGroups(groups);
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
