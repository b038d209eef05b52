import { atLeastAsUpToDate, findElectableWithoutCommitted, type Voter } from './electable.js';
import type { LogView } from './committed-log.js';

/** A log from index 2 on (index 1 is the bootstrap snapshot of term 1); terms[i] is the term of entry i+2. */
function log(terms: number[]): LogView {
  return {
    firstIndex: () => 2,
    lastIndex: () => 1 + terms.length,
    termAt: (i) => (i === 1 ? 1 : terms[i - 2]),
  };
}

function voter(id: string, terms: number[]): Voter {
  const l = log(terms);
  return { id, campaignLogs: [l], durableLog: l };
}

describe('findElectableWithoutCommitted (Raft §5.4.3 Leader Completeness, before the election happens)', () => {
  test('§5.4.1: the later last term wins; with equal terms the longer log', () => {
    expect(atLeastAsUpToDate({ index: 3, term: 4 }, { index: 9, term: 3 })).toBe(true);
    expect(atLeastAsUpToDate({ index: 9, term: 3 }, { index: 3, term: 4 })).toBe(false);
    expect(atLeastAsUpToDate({ index: 5, term: 3 }, { index: 5, term: 3 })).toBe(true);
    expect(atLeastAsUpToDate({ index: 4, term: 3 }, { index: 5, term: 3 })).toBe(false);
  });

  test('Figure 8 (d) after (c) went wrong: S1 committed 2@2 by counting replicas; S5 with 2@3 could win', () => {
    // S1 (term 4) replicated 2@2 to S2 and S3 and counted a majority, without an entry of term 4 on them.
    const voters = [
      voter('s1', [2, 4]),
      voter('s2', [2]),
      voter('s3', [2]),
      voter('s4', []),
      voter('s5', [3]),
    ];
    expect(findElectableWithoutCommitted({ index: 2, term: 2, appliedBy: 's1' }, voters)).toMatch(
      /entry 2@2 was applied by s1, but s5 holds 2@3 instead .* s2 \(2@2\), s3 \(2@2\), s4 \(1@1\), s5 .*a majority of 5/,
    );
  });

  test('Figure 8 (e), the correct way: 2@2 commits together with 3@4 on a majority, and S5 cannot win', () => {
    const voters = [
      voter('s1', [2, 4]),
      voter('s2', [2, 4]),
      voter('s3', [2, 4]),
      voter('s4', []),
      voter('s5', [3]),
    ];
    expect(findElectableWithoutCommitted({ index: 3, term: 4, appliedBy: 's1' }, voters)).toBeUndefined();
    expect(findElectableWithoutCommitted({ index: 2, term: 2, appliedBy: 's1' }, voters)).toBeUndefined();
  });

  test('a voter lacking the entry but outranked by a majority is fine; ties among the lacking ones too', () => {
    const voters = [voter('n1', [2, 2]), voter('n2', [2, 2]), voter('n3', [2])];
    expect(findElectableWithoutCommitted({ index: 3, term: 2, appliedBy: 'n1' }, voters)).toBeUndefined();
  });

  test('a snapshot past the committed index counts as holding it', () => {
    const compacted: LogView = {
      firstIndex: () => 6,
      lastIndex: () => 5,
      termAt: (i) => (i === 5 ? 2 : undefined),
    };
    const voters: Voter[] = [
      { id: 'n1', campaignLogs: [compacted], durableLog: compacted },
      voter('n2', [2, 2, 2, 2]),
      voter('n3', [2, 2, 2, 2]),
    ];
    expect(findElectableWithoutCommitted({ index: 4, term: 2, appliedBy: 'n2' }, voters)).toBeUndefined();
  });
});
