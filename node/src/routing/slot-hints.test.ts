import { SLOT_COUNT } from '../../shared/sharding/slot.js';
import { SlotHints } from './slot-hints.js';

describe('SlotHints', () => {
  test('start as the even split of the creation layout', () => {
    const hints = new SlotHints(3);
    expect(hints.ownerOf(0)).toBe(0);
    expect(hints.ownerOf(SLOT_COUNT - 1)).toBe(2);
    expect(hints.toSpec().ranges.map((r) => r.shard)).toEqual([0, 1, 2]);
  });

  test('learn the owner a redirect names; a late redirect of an older move does not undo a newer one', () => {
    const hints = new SlotHints(2);
    expect(hints.learn({ slot: 5, epoch: 3, owner: 1, moving: false })).toBe(true);
    expect(hints.ownerOf(5)).toBe(1);
    expect(hints.learn({ slot: 5, epoch: 2, owner: 0, moving: false })).toBe(false);
    expect(hints.ownerOf(5)).toBe(1);
    expect(hints.learn({ slot: 5, epoch: 4, owner: 2, moving: false })).toBe(true);
    expect(hints.ownerOf(5)).toBe(2);
    expect(hints.epoch).toBe(4);
    // No owner named, or a slot out of range: nothing learned.
    expect(hints.learn({ slot: 6, epoch: 9, owner: undefined, moving: true })).toBe(false);
    expect(hints.learn({ slot: SLOT_COUNT, epoch: 9, owner: 1, moving: false })).toBe(false);
    expect(hints.toSpec().ranges).toContainEqual({ start: 5, end: 5, shard: 2 });
  });
});
