import type { Entry } from '../../../src/raft/index.js';
import { LogMatchingChecker } from './log-matching.js';

const enc = new TextEncoder();
function e(index: number, term: number, data = `x${index}`): Entry {
  return { index, term, type: 'normal', data: enc.encode(data) };
}

describe('LogMatchingChecker (Raft §5.3: same index and term ⇒ same entries up to there)', () => {
  test('identical logs appended in different chunks agree', () => {
    const c = new LogMatchingChecker();
    expect(c.observeAppend('n1', [e(2, 1), e(3, 1), e(4, 2)], 1)).toBeUndefined();
    expect(c.observeAppend('n2', [e(2, 1)], 1)).toBeUndefined();
    expect(c.observeAppend('n2', [e(3, 1), e(4, 2)], 1)).toBeUndefined();
  });

  test('flags two different payloads under the same index and term', () => {
    const c = new LogMatchingChecker();
    c.observeAppend('n1', [e(2, 1, 'put a')], 1);
    expect(c.observeAppend('n2', [e(2, 1, 'put b')], 1)).toMatch(/entry 2@1 differs between n1 .* and n2/);
  });

  test('flags equal entries whose predecessors have different terms', () => {
    const c = new LogMatchingChecker();
    c.observeAppend('n1', [e(5, 3, 'same')], 2);
    expect(c.observeAppend('n2', [e(5, 3, 'same')], 1)).toMatch(
      /follows an entry of term 2 on n1 but of term 1 on n2/,
    );
  });

  test('a conflicting suffix from another term is no violation (it is what truncation looks like)', () => {
    const c = new LogMatchingChecker();
    c.observeAppend('n1', [e(4, 2, 'old')], 1);
    expect(c.observeAppend('n1', [e(4, 3, 'new')], 1)).toBeUndefined();
  });
});
