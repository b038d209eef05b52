// Single-server membership changes (Raft thesis §4.1, §4.2.1 learners): add learner, promote, remove.
import { MemoryStorage } from './memory-storage.js';
import { newMessage } from './message.js';
import { RawNode } from './raw-node.js';
import type { Message } from './types.js';
import { seededRandom } from '../random/prng.js';
import { TestCluster } from '../../testing/raft/test-cluster.js';

function started(ids = ['a', 'b', 'c']): TestCluster {
  const c = new TestCluster(ids);
  c.campaign(ids[0]!);
  c.propose(ids[0]!, 'before');
  return c;
}

describe('membership changes', () => {
  test('a learner added empty catches up through a snapshot and the log, without voting', () => {
    const c = started();
    expect(c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd', context: 'addr-d' }).ok).toBe(
      true,
    );
    c.addMember('d', new MemoryStorage(), 4);
    c.stabilize();
    c.tickAll(3);
    c.propose('a', 'after');
    // d starts from the founding snapshot (index 1) and receives everything after it through the log.
    expect(c.appliedTexts('d')).toEqual(['before', 'after']);
    expect(c.node('d').status().config).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(c.node('d').status().commit).toBe(c.node('a').status().commit);
    // Quorum is still 2 of the 3 voters: with b and c down, nothing commits even though d acknowledges.
    c.partition(['a', 'd'], ['b'], ['c']);
    const r = c.propose('a', 'needs-a-voter');
    expect(r.ok).toBe(true);
    expect(c.appliedTexts('a')).not.toContain('needs-a-voter');
  });

  test('a learner never campaigns and never counts as a vote', () => {
    const c = started();
    c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    c.addMember('d', new MemoryStorage(), 4);
    c.stabilize();
    const term = c.node('d').status().term;
    c.partition(['a', 'b', 'c'], ['d']);
    for (let i = 0; i < 100; i++) c.tick('d');
    c.stabilize();
    expect(c.node('d').status().term).toBe(term);
    expect(c.node('d').status().role).toBe('follower');
  });

  test('promote makes a learner a voter; quorum grows with it', () => {
    const c = started();
    c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    c.addMember('d', new MemoryStorage(), 4);
    c.stabilize();
    expect(c.node('a').proposeConfChange({ type: 'promote', nodeId: 'd' }).ok).toBe(true);
    c.stabilize();
    expect(c.node('a').status().config).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    // 4 voters need 3: a and d alone cannot commit.
    c.partition(['a', 'd'], ['b', 'c']);
    c.propose('a', 'x');
    expect(c.appliedTexts('a')).not.toContain('x');
    c.partition(['a', 'b', 'd'], ['c']);
    c.tickAll(1);
    expect(c.appliedTexts('a')).toContain('x');
    expect(c.appliedTexts('d')).toContain('x');
  });

  test('at most one membership change may be uncommitted', () => {
    const c = started();
    expect(c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' }).ok).toBe(true);
    expect(c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'e' })).toEqual({
      ok: false,
      reason: 'confChangePending',
    });
    c.stabilize();
    expect(c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'e' }).ok).toBe(true);
  });

  test('invalid changes are refused with a distinct reason', () => {
    const c = started();
    expect(c.node('a').proposeConfChange({ type: 'promote', nodeId: 'b' })).toEqual({
      ok: false,
      reason: 'invalidConfChange',
    });
    expect(c.node('a').proposeConfChange({ type: 'remove', nodeId: 'zz' })).toEqual({
      ok: false,
      reason: 'invalidConfChange',
    });
    expect(c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'c' })).toEqual({
      ok: false,
      reason: 'invalidConfChange',
    });
    expect(c.node('b').proposeConfChange({ type: 'addLearner', nodeId: 'd' })).toEqual({
      ok: false,
      reason: 'notLeader',
    });
  });

  test('removing a voter shrinks the quorum; the removed member stops participating', () => {
    const c = started();
    expect(c.node('a').proposeConfChange({ type: 'remove', nodeId: 'c' }).ok).toBe(true);
    c.stabilize();
    expect(c.node('a').status().config.voters).toEqual(['a', 'b']);
    c.members.delete('c');
    c.propose('a', 'two-voters');
    expect(c.appliedTexts('b')).toContain('two-voters');
  });

  test('the leader can remove itself: it steps down and the others elect a leader', () => {
    const c = started();
    expect(c.node('a').proposeConfChange({ type: 'remove', nodeId: 'a' }).ok).toBe(true);
    c.stabilize();
    expect(c.node('a').status().role).toBe('follower');
    c.members.delete('a');
    c.tickAll(30);
    const leader = c.leader();
    expect(['b', 'c']).toContain(leader);
    expect(c.node(leader!).status().config.voters).toEqual(['b', 'c']);
    c.propose(leader!, 'after-removal');
    expect(c.appliedTexts('b')).toContain('after-removal');
    expect(c.appliedTexts('c')).toContain('after-removal');
  });

  test('a member that restarts replays committed configuration changes after its snapshot', () => {
    const c = started();
    c.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    c.addMember('d', new MemoryStorage(), 4);
    c.stabilize();
    c.restart('b');
    c.tickAll(2);
    expect(c.node('b').status().config).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
  });

  test('a snapshot restored while a Ready with committed conf changes is held: advance() does not apply them again', () => {
    // Found by the simulator's configuration check (node/testing/sim/repro/conf-change-after-restore.ts): c's host
    // holds a Ready committing "add learner d" and "promote d" while the others remove d, compact, and send c a
    // snapshot without d; advance() then applied the held changes on top of the snapshot's configuration.
    const ids = ['a', 'b', 'c', 'e'];
    const storages = new Map(ids.map((id) => [id, MemoryStorage.bootstrap(ids)]));
    const random = seededRandom(1);
    const nodes = new Map(
      ids.map((id) => [
        id,
        new RawNode({ id, storage: storages.get(id)!, electionTicks: 10, heartbeatTicks: 1, random }),
      ]),
    );
    const a = nodes.get('a')!;
    const c = nodes.get('c')!;
    let network: Message[] = [];
    let cBusy = false;
    let cCut = false;
    const run = (): void => {
      for (let round = 0; round < 1000; round++) {
        for (const [id, node] of nodes) {
          if (id === 'c' && cBusy) continue;
          while (node.hasReady()) {
            const rd = node.ready();
            network.push(...rd.messages, ...rd.messagesAfterPersist);
            node.advance(rd);
          }
        }
        if (network.length === 0) return;
        const batch = network;
        network = [];
        for (const m of batch) if (nodes.has(m.to) && !(cCut && m.to === 'c')) nodes.get(m.to)!.step(m);
      }
      throw new Error('did not settle');
    };
    a.campaign();
    run();
    cBusy = true;
    expect(a.proposeConfChange({ type: 'addLearner', nodeId: 'd' }).ok).toBe(true);
    run();
    const promote = a.proposeConfChange({ type: 'promote', nodeId: 'd' });
    expect(promote.ok).toBe(true);
    run();
    const held = c.ready();
    expect(held.committedEntries.filter((e) => e.type === 'confChange')).toHaveLength(2);
    cCut = true;
    expect(a.proposeConfChange({ type: 'remove', nodeId: 'd' }).ok).toBe(true);
    run();
    a.compact(new Uint8Array(), 0);
    cCut = false;
    const snapshot = storages.get('a')!.snapshot();
    expect(snapshot.metadata.confState.voters).not.toContain('d');
    c.step(newMessage('snap', 'a', 'c', { term: a.status().term, snapshot }));
    c.advance(held);
    cBusy = false;
    run();
    expect(c.confState()).toEqual(a.confState());
    expect([...c.confState().voters, ...c.confState().learners]).not.toContain('d');
  });
});
