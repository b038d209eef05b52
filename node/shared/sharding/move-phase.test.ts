import { abortPhase, movePhase, strayMove, type SlotSide, type SlotState } from './move-phase.js';

const side = (state: SlotState, epoch = 0): SlotSide => ({ state, epoch });

describe('movePhase', () => {
  it('walks a move from start to end by looking at the two groups', () => {
    const E = 7;
    expect(movePhase(side('owned'), side('absent'), E)).toBe('import');
    expect(movePhase(side('owned'), side('importing', E), E)).toBe('freeze');
    expect(movePhase(side('leaving', E), side('importing', E), E)).toBe('copy');
    expect(movePhase(side('leaving', E), side('imported', E), E)).toBe('activate');
    expect(movePhase(side('leaving', E), side('owned', E), E)).toBe('release');
    expect(movePhase(side('absent', E), side('owned', E), E)).toBe('done');
  });

  it('counts a slot the target serves and the source does not as done, whichever move put it there', () => {
    expect(movePhase(side('absent', 5), side('owned', 5), 7)).toBe('done');
  });

  it('finds a move left half-done at another epoch, which must be resolved first', () => {
    expect(strayMove(side('owned'), side('importing', 3), 7)).toEqual({ on: 'target', epoch: 3 });
    expect(strayMove(side('owned'), side('imported', 3), 7)).toEqual({ on: 'target', epoch: 3 });
    expect(strayMove(side('leaving', 3), side('absent'), 7)).toEqual({ on: 'source', epoch: 3 });
    expect(strayMove(side('leaving', 7), side('importing', 7), 7)).toBeUndefined();
    expect(strayMove(side('owned'), side('absent'), 7)).toBeUndefined();
  });

  it('does not mistake another move for this one', () => {
    // The target imports at an older epoch (a move that never finished): this move starts with its own import,
    // which the target refuses until that one is aborted.
    expect(movePhase(side('owned'), side('importing', 3), 7)).toBe('import');
    // The target owns the slot from an earlier move, but the source serves it too: not this move's doing.
    expect(movePhase(side('owned'), side('owned', 3), 7)).toBe('import');
  });
});

describe('abortPhase', () => {
  it('undoes the target before the source, and refuses once the target serves', () => {
    const E = 4;
    expect(abortPhase(side('leaving', E), side('imported', E), E)).toBe('abortTarget');
    expect(abortPhase(side('leaving', E), side('importing', E), E)).toBe('abortTarget');
    expect(abortPhase(side('leaving', E), side('absent'), E)).toBe('abortSource');
    expect(abortPhase(side('owned'), side('absent'), E)).toBe('aborted');
    expect(abortPhase(side('leaving', E), side('owned', E), E)).toBe('tooLate');
  });
});
