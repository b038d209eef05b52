import { decodeSlotStatus, wirePageStart } from '../../shared/client/slot-groups-client.js';
import { NO_PEER, SlotOwnership } from '../sharding/slot-ownership.js';
import { copyCursorsOf, pageStartOf } from './slot-admin.js';

const b = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('slot admin on the wire', () => {
  it('carries where an ingested page starts from the coordinator to the proposed command', () => {
    expect(pageStartOf(wirePageStart(undefined))).toEqual({ kind: 'first' });
    expect(pageStartOf(wirePageStart(b('k7')))).toEqual({ kind: 'after', key: b('k7') });
    // A coordinator that predates the field leaves it unset: its page is applied as then, the cursor stays.
    expect(pageStartOf(undefined)).toEqual({ kind: 'unknown' });
  });

  it('reports each import’s copy cursor once, and hands it to the coordinator with every slot of that import', () => {
    const ownership = SlotOwnership.initial(1, 2);
    ownership.apply({ step: 'import', slots: [0, 1], peer: 0, epoch: 4 });
    ownership.apply({ step: 'import', slots: [2], peer: 0, epoch: 5 });
    const cursors = new Map([[4, b('k7')]]); // the import at epoch 5 has not had a page yet
    const machine = { ownership, copyCursor: (epoch: number) => cursors.get(epoch) };
    const copyCursors = copyCursorsOf(machine, [0, 1, 2, 3000]);
    expect(copyCursors).toEqual([{ epoch: 4, key: b('k7') }]);
    const sides = [0, 1, 2, 3000].map((slot) => ({
      slot,
      state: ownership.stateOf(slot),
      epoch: ownership.moveEpochOf(slot),
      peer: ownership.peerOf(slot) ?? NO_PEER,
    }));
    const table = decodeSlotStatus(1, {
      header: undefined,
      epoch: 5,
      slotsOwned: ownership.ownedCount,
      slotsMoving: 3,
      sides,
      copyCursors,
    });
    expect(table.records).toEqual([
      { state: 'importing', epoch: 4, peer: 0, copyCursor: b('k7') },
      { state: 'importing', epoch: 4, peer: 0, copyCursor: b('k7') },
      { state: 'importing', epoch: 5, peer: 0 },
      { state: 'owned', epoch: 0, peer: NO_PEER },
    ]);
  });
});
