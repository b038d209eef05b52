// Leadership transfer (Raft thesis §3.10): TimeoutNow to an up-to-date target, proposals refused meanwhile,
// abandoned after an election timeout.
import { TestCluster } from '../../testing/raft/test-cluster.js';

describe('leadership transfer', () => {
  test('to an up-to-date follower: it wins at once, without waiting for timeouts, despite the lease', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.propose('a', 'x');
    const term = c.node('a').status().term;
    c.node('a').transferLeadership('b');
    c.stabilize();
    expect(c.node('b').status().role).toBe('leader');
    expect(c.node('a').status().leader).toBe('b');
    expect(c.node('b').status().term).toBe(term + 1);
    expect(c.propose('b', 'y').ok).toBe(true);
    expect(c.appliedTexts('a')).toEqual(['x', 'y']);
  });

  test('to a lagging follower: it is brought up to date first', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.partition(['a', 'b'], ['c']);
    for (let i = 0; i < 5; i++) c.propose('a', `v${i}`);
    c.heal();
    c.node('a').transferLeadership('c');
    c.stabilize();
    expect(c.node('c').status().role).toBe('leader');
    expect(c.appliedTexts('c')).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  test('proposals are refused while the transfer runs, and it is abandoned after an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.partition(['a', 'b'], ['c']);
    c.propose('a', 'x');
    c.node('a').transferLeadership('c');
    c.stabilize();
    expect(c.node('a').status().leadTransferee).toBe('c');
    expect(c.node('a').propose(new Uint8Array([1]))).toEqual({ ok: false, reason: 'transferringLeadership' });
    c.tickAll(10);
    expect(c.node('a').status().role).toBe('leader');
    expect(c.node('a').status().leadTransferee).toBe('');
    expect(c.propose('a', 'after').ok).toBe(true);
  });

  test('a transfer to a learner or to the leader itself is ignored', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.node('a').transferLeadership('a');
    c.node('a').transferLeadership('nobody');
    c.stabilize();
    expect(c.node('a').status().role).toBe('leader');
    expect(c.node('a').status().leadTransferee).toBe('');
  });

  test('a follower forwards a transfer-to-itself request to the leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.node('b').transferLeadership('b');
    c.stabilize();
    expect(c.node('b').status().role).toBe('leader');
  });
});
