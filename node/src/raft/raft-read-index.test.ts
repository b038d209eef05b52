// Linearizable reads with ReadIndex (Raft thesis §6.4): the leader confirms it is still leader with a heartbeat
// round before answering, and only after it committed an entry of its own term.
import { TestCluster } from './testing/test-cluster.js';

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
