// Linearizable reads with ReadIndex (Raft thesis §6.4): the leader confirms it is still leader with a heartbeat
// round before answering, and only after it committed an entry of its own term.
import { TestCluster } from '../../testing/raft/test-cluster.js';

const ctx = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('ReadIndex', () => {
  test('the leader answers with its commit index after a quorum acknowledges a heartbeat', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.propose('a', 'x');
    c.node('a').readIndex(ctx('r1'));
    // Before any heartbeat response, no read state.
    const rd = c.node('a').ready();
    expect(rd.readStates).toHaveLength(0);
    expect(
      rd.messages.filter((m) => m.type === 'heartbeat' && m.context && text(m.context) === 'r1'),
    ).toHaveLength(2);
    c.queue.push(...rd.messages);
    c.node('a').advance(rd);
    c.stabilize();
    const rs = c.get('a').readStates;
    expect(rs.map((r) => [r.index, text(r.context)])).toEqual([[c.node('a').status().commit, 'r1']]);
  });

  test('a leader cut off from its quorum never answers (no stale read)', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    c.campaign('a');
    c.partition(['a'], ['b', 'c']);
    c.campaign('b');
    c.propose('b', 'newer');
    c.node('a').readIndex(ctx('stale?'));
    c.stabilize();
    c.tick('a', 3);
    c.stabilize();
    expect(c.get('a').readStates).toHaveLength(0);
  });

  test('a new leader defers reads until it commits an entry of its term', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.drop = (m) => m.type === 'appResp';
    c.campaign('a');
    c.node('a').readIndex(ctx('early'));
    c.stabilize();
    c.tickAll(1);
    expect(c.get('a').readStates).toHaveLength(0);
    c.heal();
    c.tickAll(2);
    expect(c.get('a').readStates.map((r) => text(r.context))).toEqual(['early']);
    expect(c.get('a').readStates[0]!.index).toBeGreaterThanOrEqual(2);
  });

  test('a follower obtains a read index from the leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.propose('a', 'x');
    c.node('b').readIndex(ctx('f1'));
    c.stabilize();
    const rs = c.get('b').readStates;
    expect(rs.map((r) => text(r.context))).toEqual(['f1']);
    expect(rs[0]!.index).toBe(c.node('a').status().commit);
  });

  test('reads queued behind each other are all released by the later confirmation', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.drop = (m) => m.type === 'heartbeatResp';
    c.node('a').readIndex(ctx('q1'));
    c.node('a').readIndex(ctx('q2'));
    c.stabilize();
    expect(c.get('a').readStates).toHaveLength(0);
    c.heal();
    c.tickAll(1);
    expect(c.get('a').readStates.map((r) => text(r.context))).toEqual(['q1', 'q2']);
  });
});

describe('ReadIndex on a single-voter leader', () => {
  // Found by the simulation: a leader alone in its configuration answered at once with its commit index, even
  // when it had just been elected and had learned that index late. The §6.4 rule applies to it too.
  test('waits for an entry of its own term before answering', () => {
    const c = new TestCluster(['n1', 'n2'], { preVote: false });
    c.campaign('n2');
    const n1 = c.node('n1');
    const n2 = c.node('n2');
    // n2 removes itself (index k) and a write W follows (k+1); n1 acknowledges both.
    const k = n2.proposeConfChange({ type: 'remove', nodeId: 'n2' });
    const w = n2.propose(new TextEncoder().encode('W'));
    if (!k.ok || !w.ok) throw new Error('setup: proposals refused');
    c.processReadies();
    for (const m of c.queue.splice(0)) c.deliver(m);
    c.processReadies();
    for (const m of c.queue.splice(0)) c.deliver(m);
    // n2 commits and applies both (W is acknowledged) and steps down; the append telling n1 "commit k+1" is lost.
    c.processReadies();
    for (const m of c.queue.splice(0))
      if (!(m.to === 'n1' && m.type === 'app' && m.commit > k.index)) c.deliver(m);
    c.processReadies();
    c.queue.length = 0;
    expect(n2.status().role).toBe('follower');
    expect(n1.status().commit).toBe(k.index);
    expect(n1.confState().voters).toEqual(['n1']);
    // n1 is now the only voter: it wins at once. A read before its no-op is durable must not be answered yet.
    n1.campaign();
    expect(n1.status().role).toBe('leader');
    n1.readIndex(new TextEncoder().encode('r'));
    const rd = n1.ready();
    expect(rd.readStates).toHaveLength(0);
    n1.advance(rd);
    // Once the no-op of its term is committed, the read is answered at an index that includes W.
    c.processReadies();
    const rs = c.get('n1').readStates;
    expect(rs).toHaveLength(1);
    expect(rs[0]!.index).toBeGreaterThanOrEqual(w.index);
  });
});
