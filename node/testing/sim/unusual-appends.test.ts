import { Prng } from '../../src/random/prng.js';
import type { Message } from '../../src/raft/index.js';
import { TestCluster } from '../raft/test-cluster.js';
import { unusualAppend } from './unusual-appends.js';

/** A leader 'a' with ten entries that b and c hold, and the next append it would send b. */
function setUp(): { c: TestCluster; append: Message } {
  const c = new TestCluster(['a', 'b', 'c']);
  c.campaign('a');
  for (let i = 0; i < 10; i++) c.propose('a', `v${i}`);
  c.partition(['a'], ['b', 'c']);
  for (let i = 0; i < 3; i++) c.node('a').propose(new TextEncoder().encode(`w${i}`));
  const rd = c.node('a').ready();
  c.node('a').advance(rd);
  const append = rd.messages.find((m) => m.type === 'app' && m.to === 'b' && m.entries.length > 0)!;
  return { c, append };
}

describe('unusual but legal appends', () => {
  test('every variant is made of the leader log: it starts at or below the original and ends no later', () => {
    const { c, append } = setUp();
    const leader = c.node('a');
    const log = leader.raft.log;
    const match = leader.raft.tracker.progress.get('b')!.match;
    const rng = new Prng(7);
    let below = 0;
    let shorter = 0;
    for (let i = 0; i < 200; i++) {
      const v = unusualAppend(append, leader, rng);
      if (v === undefined) continue;
      expect(v).toMatchObject({ type: 'app', from: 'a', to: 'b', term: append.term, commit: append.commit });
      expect(v.index).toBeLessThanOrEqual(append.index);
      expect(v.logTerm).toBe(log.termOrUndefined(v.index));
      v.entries.forEach((e, k) => {
        expect(e.index).toBe(v.index + 1 + k);
        expect(e.term).toBe(log.termOrUndefined(e.index));
      });
      expect(v.index + v.entries.length).toBeLessThanOrEqual(append.index + append.entries.length);
      if (v.index < match) below++;
      if (v.index + v.entries.length < append.index + append.entries.length) shorter++;
    }
    expect(below).toBeGreaterThan(20);
    expect(shorter).toBeGreaterThan(20);
  });

  test('a follower takes a variant without harm: it keeps what it holds and commits no further than it was shown', () => {
    const { c, append } = setUp();
    const b = c.node('b');
    const before = b.status();
    const rng = new Prng(3);
    for (let i = 0; i < 50; i++) {
      const v = unusualAppend(append, c.node('a'), rng);
      if (v === undefined) continue;
      b.step(v);
      const s = b.status();
      expect(s.lastIndex).toBeGreaterThanOrEqual(before.lastIndex);
      expect(s.commit).toBeLessThanOrEqual(Math.max(before.commit, v.index + v.entries.length));
      const rd = b.ready();
      b.advance(rd);
      const acks = [...rd.messages, ...rd.messagesAfterPersist].filter((m) => m.type === 'appResp');
      expect(acks.every((m) => !m.reject)).toBe(true);
    }
  });

  test('no variant once the sender stopped leading the message term (its log may have changed since)', () => {
    const { c, append } = setUp();
    expect(unusualAppend({ ...append, term: append.term - 1 }, c.node('a'), new Prng(1))).toBeUndefined();
    expect(unusualAppend(append, c.node('b'), new Prng(1))).toBeUndefined();
  });
});
