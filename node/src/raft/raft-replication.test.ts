// Log replication (Raft paper §5.3, Figure 7), the commitment rule (§5.4.2, Figure 8), fast backtracking and flow
// control (thesis §10.2).
import { MemoryStorage } from './memory-storage.js';
import { TestCluster } from '../../testing/raft/test-cluster.js';
import type { Entry, Message } from './types.js';

function logOf(terms: number[]): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: i + 1,
    type: 'normal',
    data: new Uint8Array([i + 1, term]),
  }));
}

function storageWith(voters: string[], terms: number[]): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({
    metadata: { index: 0, term: 0, confState: { voters, learners: [] } },
    data: new Uint8Array(),
  });
  s.append(logOf(terms));
  s.setHardState({ term: terms.length > 0 ? terms[terms.length - 1]! : 0, vote: '', commit: 0 });
  return s;
}

function termsOf(s: MemoryStorage): number[] {
  const out: number[] = [];
  for (let i = s.firstIndex(); i <= s.lastIndex(); i++) out.push(s.term(i));
  return out;
}

function ack(from: string, to: string, term: number, index: number): Message {
  return {
    type: 'appResp',
    from,
    to,
    term,
    index,
    logTerm: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
}

describe('log replication', () => {
  // Figure 7: the leader for term 8 and six possible follower logs.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  test.each(Object.keys(followers))(
    'Figure 7 (%s): the leader brings a follower log to match its own, missing or extra entries alike',
    (name) => {
      const voters = ['L', 'V', 'X'];
      const c = new TestCluster([], { preVote: false });
      c.addMember('L', storageWith(voters, leaderLog), 1);
      c.addMember('V', storageWith(voters, leaderLog), 2);
      c.addMember('X', storageWith(voters, followers[name]!), 3);
      // Term 8 as in the figure: L has seen term 7.
      c.get('L').storage.setHardState({ term: 7, vote: '', commit: 0 });
      c.restart('L', 1);
      c.campaign('L');
      expect(c.node('L').status().role).toBe('leader');
      expect(c.node('L').status().term).toBeGreaterThanOrEqual(8);
      const expected = termsOf(c.get('L').storage);
      expect(expected.slice(0, 10)).toEqual(leaderLog);
      expect(termsOf(c.get('X').storage)).toEqual(expected);
      expect(c.node('X').status().commit).toBe(expected.length);
    },
  );

  test('fast backtracking skips a whole conflicting term per round trip', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    c.campaign('a');
    c.partition(['a'], ['b', 'c']);
    for (let i = 0; i < 100; i++) c.node('a').propose(new TextEncoder().encode(`stale-${i}`));
    c.stabilize();
    c.campaign('b');
    for (let i = 0; i < 50; i++) c.node('b').propose(new TextEncoder().encode(`new-${i}`));
    c.stabilize();
    c.heal();
    const before = c.delivered.length;
    c.tickAll(1);
    const rejections = c.delivered
      .slice(before)
      .filter((m) => m.type === 'appResp' && m.reject && m.from === 'a');
    // Decrementing one index at a time would take ~100 round trips.
    expect(rejections.length).toBeLessThanOrEqual(3);
    expect(termsOf(c.get('a').storage)).toEqual(termsOf(c.get('b').storage));
    expect(c.appliedTexts('a')).toEqual(c.appliedTexts('b'));
    expect(c.appliedTexts('a').some((t) => t.startsWith('stale'))).toBe(false);
  });

  test('flow control: at most maxInflightMessages appends are outstanding to a silent follower', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxInflightMessages: 2 });
    c.campaign('a');
    c.drop = (m) => m.from === 'b' && m.type === 'appResp';
    const before = c.delivered.length;
    for (let i = 0; i < 10; i++) c.propose('a', `v${i}`);
    const toB = c.delivered
      .slice(before)
      .filter((m) => m.type === 'app' && m.to === 'b' && m.entries.length > 0);
    expect(toB).toHaveLength(2);
    // c acknowledges normally, so everything commits without b.
    expect(c.appliedTexts('a')).toHaveLength(10);
    c.heal();
    c.tickAll(2);
    expect(c.appliedTexts('b')).toEqual(c.appliedTexts('a'));
  });

  test('flow control: an append carries at most maxEntriesBytesPerMessage (beyond its first entry)', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxEntriesBytesPerMessage: 300 });
    c.campaign('a');
    c.partition(['a', 'c'], ['b']);
    for (let i = 0; i < 20; i++) c.node('a').propose(new Uint8Array(100));
    c.stabilize();
    c.heal();
    const before = c.delivered.length;
    c.tickAll(3);
    const toB = c.delivered
      .slice(before)
      .filter((m) => m.type === 'app' && m.to === 'b' && m.entries.length > 0);
    expect(toB.length).toBeGreaterThan(3);
    for (const m of toB) expect(m.entries.length).toBeLessThanOrEqual(3);
    expect(c.get('b').applied).toHaveLength(20);
  });
});

describe('commitment (§5.4.2, Figure 8)', () => {
  test('a leader does not commit an entry of a previous term by counting replicas', () => {
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const c = new TestCluster(ids, { preVote: false, checkQuorum: false });
    // (a) s1 leads term 2 and replicates index 3 only to s2.
    c.campaign('s1');
    c.partition(['s1', 's2'], ['s3', 's4', 's5']);
    c.propose('s1', 'from-term-2');
    expect(c.node('s1').status().commit).toBe(2);
    // (b) s5 wins term 3 with s3 and s4, but its entries reach nobody.
    c.partition(['s1'], ['s2'], ['s3', 's4', 's5']);
    const partition = c.drop;
    c.drop = (m) => partition(m) || (m.from === 's5' && m.type === 'app');
    c.campaign('s5');
    expect(c.node('s5').status().role).toBe('leader');
    c.node('s5').propose(new TextEncoder().encode('from-term-3'));
    c.stabilize();
    // (c) s1 crashes and restarts, then wins term 4 with s2 and s3.
    c.restart('s1');
    c.partition(['s1', 's2', 's3'], ['s4'], ['s5']);
    c.drop = (m) =>
      !(['s1', 's2', 's3'].includes(m.from) && ['s1', 's2', 's3'].includes(m.to)) || m.type === 'app';
    c.campaign('s1');
    c.campaign('s1');
    const s1 = c.node('s1').status();
    expect(s1.role).toBe('leader');
    expect(s1.lastIndex).toBe(4); // index 3 from term 2, index 4 its own no-op
    // Replicas of index 3 on s1, s2, s3 form a majority, but it is from term 2: no commit.
    c.node('s1').step(ack('s2', 's1', s1.term, 3));
    c.node('s1').step(ack('s3', 's1', s1.term, 3));
    c.processReadies();
    expect(c.node('s1').status().commit).toBe(2);
    // Once an entry of the current term is on a majority, it and everything before it commit.
    c.node('s1').step(ack('s2', 's1', s1.term, 4));
    c.processReadies();
    expect(c.node('s1').status().commit).toBe(2);
    c.node('s1').step(ack('s3', 's1', s1.term, 4));
    c.processReadies();
    expect(c.node('s1').status().commit).toBe(4);
  });

  test('the leader counts its own entries only once they are persisted', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    const a = c.node('a');
    const result = a.propose(new TextEncoder().encode('x'));
    expect(result.ok).toBe(true);
    const term = a.status().term;
    // Both followers acknowledge before the leader persisted: 2 of 3 is a majority without the leader.
    a.step(ack('b', 'a', term, 3));
    expect(a.status().commit).toBe(2);
    a.step(ack('c', 'a', term, 3));
    expect(a.status().commit).toBe(3);
    // With one follower ack, the leader's own unpersisted copy must not count.
    const r2 = a.propose(new TextEncoder().encode('y'));
    expect(r2.ok && r2.index).toBe(4);
    a.step(ack('b', 'a', term, 4));
    expect(a.status().commit).toBe(3);
    const rd = a.ready();
    expect(a.status().commit).toBe(3);
    a.advance(rd);
    expect(a.status().commit).toBe(4);
    const r3 = a.propose(new TextEncoder().encode('z'));
    expect(r3.ok && r3.index).toBe(5);
    a.step(ack('c', 'a', term, 5));
    expect(a.status().commit).toBe(4);
    a.advance(a.ready());
    expect(a.status().commit).toBe(5);
  });
});
