import { ElectionSafetyChecker } from './election-safety.js';

describe('ElectionSafetyChecker (Raft §5.2: at most one leader per term)', () => {
  test('flags a second leader in the same term, even long after the first stepped down', () => {
    const c = new ElectionSafetyChecker();
    expect(c.observeLeader(3, 'n1')).toBeUndefined();
    expect(c.observeLeader(4, 'n2')).toBeUndefined();
    expect(c.observeLeader(3, 'n2')).toMatch(/n1 and n2 were both leader in term 3/);
  });

  test('the same leader observed again, and different leaders in different terms, are fine', () => {
    const c = new ElectionSafetyChecker();
    expect(c.observeLeader(2, 'n1')).toBeUndefined();
    expect(c.observeLeader(2, 'n1')).toBeUndefined();
    expect(c.observeLeader(5, 'n3')).toBeUndefined();
    expect(c.leaderOf(5)).toBe('n3');
    expect(c.termsWithLeader()).toBe(2);
  });
});
