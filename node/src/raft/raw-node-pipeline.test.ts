// The host may step messages and take sendable messages while a Ready is being persisted (between ready() and
// advance()), as etcd's node.go does: what promises durability still waits for the next Ready's persistence.
import { TestCluster } from '../../testing/raft/test-cluster.js';
import type { Message } from './types.js';

function ack(from: string, to: string, term: number, index: number): Message {
  return {
    type: 'appResp',
    from,
    to,
    term,
    logTerm: 0,
    index,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
}

describe('stepping while a Ready is persisted', () => {
  test("a leader's appends for proposals made during its fsync can leave at once; its own ack waits", () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    const a = c.node('a');
    const term = a.status().term;
    expect(a.propose(new TextEncoder().encode('x'))).toMatchObject({ ok: true, index: 3 });
    const rd = a.ready(); // the host starts persisting entry 3
    expect(rd.entries.map((e) => e.index)).toEqual([3]);
    // Meanwhile: another proposal, and both followers acknowledge entry 3.
    expect(a.propose(new TextEncoder().encode('y'))).toMatchObject({ ok: true, index: 4 });
    const sendable = a.takeMessages();
    expect(
      sendable.filter((m) => m.type === 'app').map((m) => [m.to, m.entries.map((e) => e.index)]),
    ).toEqual([
      ['b', [4]],
      ['c', [4]],
    ]);
    expect(a.takeMessages()).toEqual([]);
    a.step(ack('b', 'a', term, 3));
    a.step(ack('c', 'a', term, 3));
    expect(a.status().commit).toBe(3); // two followers are a majority without the leader's unfinished fsync
    a.advance(rd);
    const next = a.ready();
    expect(next.entries.map((e) => e.index)).toEqual([4]);
    expect(next.committedEntries.map((e) => e.index)).toEqual([3]);
    a.advance(next);
    a.step(ack('b', 'a', term, 4));
    expect(a.status().commit).toBe(4);
  });

  test('a follower never hands out an append response before the Ready that holds the entries', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    const a = c.node('a');
    const b = c.node('b');
    a.propose(new TextEncoder().encode('x'));
    const appends = a.takeMessages().filter((m) => m.to === 'b' && m.type === 'app');
    expect(appends).toHaveLength(1);
    const rd = b.ready(); // whatever b had pending is being persisted
    b.step(appends[0]!);
    expect(b.takeMessages().filter((m) => m.type === 'appResp')).toEqual([]);
    b.advance(rd);
    const next = b.ready();
    expect(next.entries.map((e) => e.index)).toEqual([3]);
    expect(next.messagesAfterPersist.map((m) => [m.type, m.index])).toEqual([['appResp', 3]]);
    b.advance(next);
  });
});
