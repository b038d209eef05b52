// Log compaction and snapshots (Raft paper §7): followers behind the compaction point receive a snapshot.
import { TestCluster } from '../../testing/raft/test-cluster.js';

describe('snapshots', () => {
  test('a follower behind the compaction point receives the snapshot, then the log', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.partition(['a', 'b'], ['c']);
    for (let i = 0; i < 10; i++) c.propose('a', `v${i}`);
    c.node('a').compact(new TextEncoder().encode('state-at-applied'), 2);
    const snap = c.get('a').storage.snapshot();
    expect(snap.metadata.index).toBe(c.node('a').status().applied);
    expect(c.get('a').storage.firstIndex()).toBe(snap.metadata.index - 1);
    c.heal();
    c.tickAll(3);
    expect(c.get('c').storage.snapshot().metadata.index).toBe(snap.metadata.index);
    expect(new TextDecoder().decode(c.get('c').storage.snapshot().data)).toBe('state-at-applied');
    c.propose('a', 'after');
    expect(c.appliedTexts('c')).toEqual(['after']);
    expect(c.node('c').status().commit).toBe(c.node('a').status().commit);
  });

  test('a member restarted from a snapshot keeps its configuration and catches up', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    for (let i = 0; i < 5; i++) c.propose('a', `v${i}`);
    c.node('b').compact(new Uint8Array([7]));
    c.restart('b');
    c.propose('a', 'later');
    c.tickAll(1);
    expect(c.node('b').status().config.voters).toEqual(['a', 'b', 'c']);
    expect(c.appliedTexts('b')).toEqual(['later']);
  });

  test('a lost snapshot message is resent after a few election timeouts', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.partition(['a', 'b'], ['c']);
    for (let i = 0; i < 3; i++) c.propose('a', `v${i}`);
    c.node('a').compact(new Uint8Array([1]));
    c.heal();
    c.drop = (m) => m.type === 'snap';
    c.tickAll(3);
    expect(c.node('a').status().progress.get('c')!.state).toBe('snapshot');
    c.heal();
    c.tickAll(80);
    expect(c.get('c').storage.snapshot().metadata.index).toBeGreaterThan(1);
    expect(c.node('c').status().commit).toBe(c.node('a').status().commit);
  });
});

describe('backpressure', () => {
  test('proposals past the uncommitted-bytes bound are refused with a distinct reason, then accepted again', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxUncommittedEntriesBytes: 100 });
    c.campaign('a');
    c.partition(['a'], ['b', 'c']);
    expect(c.node('a').propose(new Uint8Array(60)).ok).toBe(true);
    expect(c.node('a').propose(new Uint8Array(60))).toEqual({ ok: false, reason: 'tooManyUncommittedBytes' });
    // A single proposal larger than the bound is still accepted when nothing is in flight (no livelock).
    c.heal();
    c.tickAll(2);
    expect(c.node('a').propose(new Uint8Array(150)).ok).toBe(true);
    c.stabilize();
    expect(c.node('a').propose(new Uint8Array(60)).ok).toBe(true);
  });
});
