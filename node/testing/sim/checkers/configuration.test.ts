import {
  ConfigurationHistory,
  applySimpleChange,
  isQuorum,
  jointVote,
  majorityVote,
  showConfiguration,
  type Configuration,
} from './configuration.js';

const simple = (voters: string[], learners: string[] = []): Configuration => ({
  incoming: voters,
  outgoing: [],
  learners,
});

describe('configurations (etcd-io/raft quorum/ and confchange/)', () => {
  test('majority votes: won with a majority of yes, lost once a majority is out of reach, else pending', () => {
    const votes = new Map<string, boolean>([
      ['a', true],
      ['b', false],
    ]);
    expect(majorityVote(['a', 'b', 'c'], (id) => votes.get(id))).toBe('pending');
    votes.set('c', true);
    expect(majorityVote(['a', 'b', 'c'], (id) => votes.get(id))).toBe('won');
    votes.set('c', false);
    expect(majorityVote(['a', 'b', 'c'], (id) => votes.get(id))).toBe('lost');
    // majority.go: "By convention, the elections on an empty config win".
    expect(majorityVote([], () => undefined)).toBe('won');
  });

  test('a joint configuration needs both majorities; one lost half loses the whole vote', () => {
    const joint: Configuration = { incoming: ['c', 'd', 'e'], outgoing: ['a', 'b', 'c'], learners: [] };
    expect(isQuorum(joint, new Set(['a', 'b', 'd', 'e']))).toBe(true);
    expect(isQuorum(joint, new Set(['a', 'b', 'c']))).toBe(false);
    expect(isQuorum(joint, new Set(['c', 'd']))).toBe(false);
    expect(isQuorum(joint, new Set(['b', 'c', 'd']))).toBe(true);
    const votes = new Map([
      ['c', true],
      ['d', true],
      ['a', false],
      ['b', false],
    ]);
    expect(jointVote(joint, (id) => votes.get(id))).toBe('lost');
    expect(showConfiguration(joint)).toBe('(c d e)&&(a b c)');
  });

  test('single-server changes as the core documents them; one that does not apply changes nothing', () => {
    const c0 = simple(['a', 'b', 'c']);
    const c1 = applySimpleChange(c0, { type: 'addLearner', nodeId: 'd' });
    expect(c1).toEqual(simple(['a', 'b', 'c'], ['d']));
    const c2 = applySimpleChange(c1, { type: 'promote', nodeId: 'd' });
    expect(c2).toEqual(simple(['a', 'b', 'c', 'd']));
    expect(applySimpleChange(c2, { type: 'remove', nodeId: 'a' })).toEqual(simple(['b', 'c', 'd']));
    expect(applySimpleChange(c2, { type: 'promote', nodeId: 'a' })).toBe(c2);
    expect(applySimpleChange(c1, { type: 'addLearner', nodeId: 'a' })).toBe(c1);
    expect(applySimpleChange(simple(['a']), { type: 'remove', nodeId: 'a' })).toEqual(simple(['a']));
    expect(() =>
      applySimpleChange({ incoming: ['a'], outgoing: ['b'], learners: [] }, { type: 'remove', nodeId: 'a' }),
    ).toThrow(/inside the joint/);
  });

  test('the history gives the configuration at an index and the spans each one is in force for', () => {
    const h = new ConfigurationHistory(simple(['a', 'b', 'c']), 1);
    h.observe(5, { type: 'addLearner', nodeId: 'd' });
    h.observe(9, { type: 'promote', nodeId: 'd' });
    h.observe(9, { type: 'promote', nodeId: 'd' }); // another member applying it again
    expect(h.at(0)).toEqual(simple([]));
    expect(h.at(4)).toEqual(simple(['a', 'b', 'c']));
    expect(h.at(5)).toEqual(simple(['a', 'b', 'c'], ['d']));
    expect(h.at(20)).toEqual(simple(['a', 'b', 'c', 'd']));
    expect(h.spansUpTo(7).map((s) => [s.from, s.to])).toEqual([
      [1, 4],
      [5, 7],
    ]);
    expect(h.spansUpTo(12).map((s) => [s.from, s.to])).toEqual([
      [1, 4],
      [5, 8],
      [9, 12],
    ]);
  });
});
