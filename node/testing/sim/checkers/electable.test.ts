import { atLeastAsUpToDate, findElectableWithoutCommitted, type Voter } from './electable.js';
import type { LogView } from './committed-log.js';
import type { Configuration } from './configuration.js';

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
      /entry 2@2 was applied by s1, but s5 holds 2@3 instead .* s2 \(2@2\), s3 \(2@2\), s4 \(1@1\), s5 .*a majority of the 5 voters/,
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

  describe('membership changes: judged against the configurations in force from the entry on', () => {
    const committed = { index: 4, term: 2, appliedBy: 'a' };
    // a and b committed 4@2 under (a b c); c, d and e only got as far as index 3.
    const voters = [
      voter('a', [2, 2, 2]),
      voter('b', [2, 2, 2]),
      voter('c', [2, 2]),
      voter('d', [2, 2]),
      voter('e', [2, 2]),
    ];
    const single = (ids: string[]): Configuration => ({ incoming: ids, outgoing: [], learners: [] });

    test('one change later the quorums still meet: (a b c d) cannot elect a voter lacking the entry', () => {
      expect(findElectableWithoutCommitted(committed, voters, single(['a', 'b', 'c', 'd']))).toBeUndefined();
    });

    test('two changes later they need not: (a b c d e) has the quorum c, d, e without it', () => {
      expect(findElectableWithoutCommitted(committed, voters, single(['a', 'b', 'c', 'd', 'e']))).toMatch(
        /but c lacks it .* c \(3@2\), d \(3@2\), e \(3@2\): a majority of the 5 voters \(a b c d e\)/,
      );
    });

    test('a joint configuration needs a quorum of both halves', () => {
      const joint: Configuration = { incoming: ['c', 'd', 'e'], outgoing: ['a', 'b', 'c'], learners: [] };
      expect(findElectableWithoutCommitted(committed, voters, joint)).toBeUndefined();
      const lagging: Configuration = { incoming: ['c', 'd', 'e'], outgoing: ['a', 'c', 'd'], learners: [] };
      expect(findElectableWithoutCommitted(committed, voters, lagging)).toMatch(
        /a quorum of the joint configuration \(c d e\)&&\(a c d\) would elect it/,
      );
    });

    test('a member wiped for good neither votes nor campaigns: only those still there count', () => {
      // Without b, the majority of (a b c) that holds the entry is gone; c and d cannot make a quorum of (a b c).
      const present = voters.filter((v) => v.id !== 'b');
      expect(findElectableWithoutCommitted(committed, present, single(['a', 'b', 'c']))).toBeUndefined();
      expect(findElectableWithoutCommitted(committed, present, single(['b', 'c', 'd']))).toMatch(
        /c lacks it/,
      );
    });
  });
});
