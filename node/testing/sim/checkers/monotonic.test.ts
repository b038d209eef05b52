import { MonotonicChecker } from './monotonic.js';

describe('MonotonicChecker (Figure 2: currentTerm and commitIndex only grow)', () => {
  test('flags a term going back within one incarnation', () => {
    const c = new MonotonicChecker();
    expect(c.observe('n1', 1, 4, 10)).toBeUndefined();
    expect(c.observe('n1', 1, 3, 10)).toMatch(/term decreased on n1: 4 → 3/);
  });

  test('flags a commit index going back within one incarnation', () => {
    const c = new MonotonicChecker();
    c.observe('n1', 1, 4, 10);
    expect(c.observe('n1', 1, 4, 9)).toMatch(/commit decreased on n1: 10 → 9/);
  });

  test('a restart may lower the volatile commit but not the synced term', () => {
    const c = new MonotonicChecker();
    c.observe('n1', 1, 4, 10);
    c.observeSynced('n1', 4);
    expect(c.observe('n1', 2, 4, 3)).toBeUndefined();
    expect(c.observeRestart('n1', 4)).toBeUndefined();
    expect(c.observeRestart('n1', 3)).toMatch(/synced 4, restarted with 3/);
  });
});
