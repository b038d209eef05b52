import type { Entry } from '../../../src/raft/index.js';
import { CommittedLogChecker, type LogView } from './committed-log.js';

const enc = new TextEncoder();
function e(index: number, term: number, data = `x${index}`): Entry {
  return { index, term, type: 'normal', data: enc.encode(data) };
}
function view(first: number, terms: number[]): LogView {
  // terms[i] is the term of entry first+i; entry first-1 (the snapshot) has term terms[0].
  return {
    firstIndex: () => first,
    lastIndex: () => first + terms.length - 1,
    termAt: (i) => (i === first - 1 ? terms[0] : terms[i - first]),
  };
}

describe('CommittedLogChecker', () => {
  test('state machine safety: flags two members applying different entries at one index', () => {
    const c = new CommittedLogChecker();
    expect(c.observeApplied('n1', 2, e(7, 2, 'put a=1')).isNew).toBe(true);
    const second = c.observeApplied('n2', 3, e(7, 3, 'put a=2'));
    expect(second.violation).toMatch(/state machine safety: n1 applied 7@2 .* but n2 applied 7@3/);
  });

  test('same payload, same index, different term is still a violation', () => {
    const c = new CommittedLogChecker();
    c.observeApplied('n1', 2, e(7, 2, 'same'));
    expect(c.observeApplied('n2', 2, e(7, 3, 'same')).violation).toMatch(/state machine safety/);
  });

  test('a snapshot whose last term disagrees with an applied entry is flagged', () => {
    const c = new CommittedLogChecker();
    c.observeApplied('n1', 2, e(9, 2));
    expect(c.observeSnapshot('n4', 3, 9, 2)).toBeUndefined();
    expect(c.observeSnapshot('n5', 3, 9, 3)).toMatch(/snapshot at 9@3/);
  });

  test('leader completeness: a later leader lacking a committed entry is flagged', () => {
    const c = new CommittedLogChecker();
    for (let i = 2; i <= 5; i++) c.observeApplied('n1', 2, e(i, 2));
    expect(c.checkLeader('n2', 3, view(2, [2, 2, 2, 2, 3]))).toBeUndefined();
    expect(c.checkLeader('n3', 3, view(2, [2, 2, 2]))).toMatch(
      /entry 5@2 was applied by n1, but n3, leader of term 3, lacks it/,
    );
    expect(c.checkLeader('n3', 3, view(2, [2, 2, 3, 3]))).toMatch(/holds 4@3 instead/);
  });

  test('a deposed leader of an earlier term may lack entries committed after it', () => {
    const c = new CommittedLogChecker();
    c.observeApplied('n1', 5, e(2, 5));
    expect(c.checkLeader('n9', 4, view(2, []))).toBeUndefined();
    expect(c.checkLeader('n9', 5, view(2, []))).toMatch(/lacks it/);
  });

  test('entries a leader compacted are trusted to its snapshot, whose last entry is checked', () => {
    const c = new CommittedLogChecker();
    for (let i = 2; i <= 6; i++) c.observeApplied('n1', 2, e(i, 2));
    expect(c.checkLeader('n2', 3, view(6, [2, 2]))).toBeUndefined();
    expect(c.checkLeader('n2', 3, view(6, [1, 2]))).toMatch(/holds 5@1 instead/);
  });
});
