// Leader election (Raft paper §5.2, §5.4.1), pre-vote (thesis §9.6) and check-quorum (thesis §6.2). The election
// tests run with check-quorum on and off: its leader lease (thesis §4.2.3) drops disruptive vote requests before
// the log is looked at, which hides the log-based refusals of §5.4.1 that a cluster without it relies on.
import { MemoryStorage } from './memory-storage.js';
import { RawNode } from './raw-node.js';
import { newMessage } from './message.js';
import { TestCluster } from '../../testing/raft/test-cluster.js';
import { seededRandom } from '../random/prng.js';
import type { Message } from './types.js';

function message(
  type: Message['type'],
  from: string,
  to: string,
  term: number,
  init: Partial<Message> = {},
): Message {
  return newMessage(type, from, to, { term, ...init });
}

describe.each([true, false])('leader election (checkQuorum %s)', (checkQuorum) => {
  test('§5.2: a candidate that gets votes from a majority becomes leader and others follow it', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum });
    c.campaign('a');
    expect(c.node('a').status().role).toBe('leader');
    expect(c.node('b').status().leader).toBe('a');
    expect(c.node('c').status().leader).toBe('a');
    expect(c.node('a').status().term).toBe(2);
  });

  test('§5.2: elections start on their own after the randomized timeout', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum });
    c.tickAll(25);
    const leader = c.leader();
    expect(leader).toBeDefined();
    const term = c.node(leader!).status().term;
    for (const id of ['a', 'b', 'c']) expect(c.node(id).status().leader).toBe(leader);
    // A stable leader keeps its term: heartbeats prevent new elections.
    c.tickAll(100);
    expect(c.leader()).toBe(leader);
    expect(c.node(leader!).status().term).toBe(term);
  });

  test('§5.2: at most one vote per term, and a candidate without a majority does not win', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum });
    c.partition(['a'], ['b'], ['c']);
    c.campaign('a');
    c.campaign('b');
    expect(c.node('a').status().role).not.toBe('leader');
    expect(c.node('b').status().role).not.toBe('leader');
  });

  test('§5.4.1 election restriction: a member whose log is behind cannot win', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false, checkQuorum });
    c.campaign('a');
    c.partition(['a', 'b'], ['c']);
    c.propose('a', 'x');
    expect(c.appliedTexts('b')).toEqual(['x']);
    c.heal();
    // c missed 'x'; a and b reject its vote because their logs are more up to date.
    c.partition(['a'], ['b', 'c']);
    c.campaign('c');
    expect(c.node('c').status().role).toBe('candidate');
    expect(c.node('b').status().vote).not.toBe('c');
    // In c's term b cannot win (c voted for itself); in the next term c grants b its vote: b's log is newer.
    c.campaign('b');
    c.campaign('b');
    expect(c.node('b').status().role).toBe('leader');
    expect(c.appliedTexts('c')).toEqual(['x']);
  });

  test('a single-voter cluster elects itself and commits alone', () => {
    const c = new TestCluster(['solo'], { checkQuorum });
    c.campaign('solo');
    expect(c.node('solo').status().role).toBe('leader');
    expect(c.propose('solo', 'v').ok).toBe(true);
    expect(c.appliedTexts('solo')).toEqual(['v']);
  });

  test('a candidate sends vote requests only after its own vote is persisted', () => {
    const node = new RawNode({
      id: 'a',
      storage: MemoryStorage.bootstrap(['a', 'b', 'c']),
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: false,
      checkQuorum,
      random: seededRandom(1),
    });
    node.campaign();
    const rd = node.ready();
    expect(rd.hardState).toMatchObject({ vote: 'a', term: 2 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.filter((m) => m.type === 'vote')).toHaveLength(0);
    expect(rd.messagesAfterPersist.filter((m) => m.type === 'vote')).toHaveLength(2);
  });
  test('a vote is granted only after it is persisted (a restart must not forget it and vote twice)', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false, checkQuorum });
    c.node('a').campaign();
    const candidate = c.node('a').ready();
    c.node('a').advance(candidate);
    for (const m of candidate.messagesAfterPersist) if (m.to === 'b') c.node('b').step(m);
    const rd = c.node('b').ready();
    expect(rd.hardState).toMatchObject({ vote: 'a', term: 2 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messages.filter((m) => m.type === 'voteResp')).toHaveLength(0);
    expect(rd.messagesAfterPersist.filter((m) => m.type === 'voteResp' && !m.reject)).toHaveLength(1);
  });

  test('§5.4.1: a member whose log fell behind rejoins without deposing the leader', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum });
    c.campaign('a');
    c.partition(['a', 'b'], ['c']);
    c.propose('a', 'x');
    const term = c.node('a').status().term;
    for (let i = 0; i < 40; i++) c.tick('c');
    c.heal();
    const from = c.delivered.length;
    c.tickAll(30);
    expect(c.leader()).toBe('a');
    expect(c.node('a').status().term).toBe(term);
    expect(c.appliedTexts('c')).toEqual(['x']);
    // Without the lease, a and b answer c's (pre-)vote requests and refuse them because c's log lacks 'x'; with it,
    // they drop them unanswered before looking at the log.
    const refusals = c.delivered
      .slice(from)
      .filter((m) => m.to === 'c' && (m.type === 'preVoteResp' || m.type === 'voteResp') && m.reject);
    expect(refusals.length > 0).toBe(!checkQuorum);
  });

  test('Figure 2: a vote request of a higher term is adopted at once and refused on the log — unless in the lease', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum });
    c.campaign('a');
    c.propose('a', 'x');
    const term = c.node('b').status().term;
    c.node('b').step(message('vote', 'c', 'b', term + 5, { logTerm: 1, index: 1 }));
    const rd = c.node('b').ready();
    const answers = [...rd.messages, ...rd.messagesAfterPersist].filter((m) => m.type === 'voteResp');
    if (checkQuorum) {
      expect(c.node('b').status()).toMatchObject({ term, leader: 'a' });
      expect(answers).toEqual([]);
    } else {
      expect(c.node('b').status()).toMatchObject({ term: term + 5, leader: '', vote: '' });
      expect(answers).toEqual([expect.objectContaining({ to: 'c', term: term + 5, reject: true })]);
    }
  });

  test('thesis §9.6: a pre-vote request never changes the receiver term, granted or not', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum });
    c.campaign('a');
    const term = c.node('b').status().term;
    const lastIndex = c.node('b').status().lastIndex;
    c.node('b').step(message('preVote', 'c', 'b', term + 5, { logTerm: term, index: lastIndex }));
    c.node('b').step(message('preVote', 'c', 'b', term + 6, { logTerm: 1, index: 1 }));
    expect(c.node('b').status()).toMatchObject({ term, leader: 'a', vote: 'a' });
    const rd = c.node('b').ready();
    const answers = [...rd.messages, ...rd.messagesAfterPersist].filter((m) => m.type === 'preVoteResp');
    // A grant answers the term asked about; a refusal carries the refuser's own term.
    expect(answers).toEqual(
      checkQuorum
        ? []
        : [
            expect.objectContaining({ term: term + 5, reject: false }),
            expect.objectContaining({ term, reject: true }),
          ],
    );
  });

  test('a pre-candidate raises its term only when a quorum grants, and adopts the term of a refusal', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e'], { checkQuorum });
    c.campaign('a');
    const term = c.node('c').status().term;
    c.partition(['a', 'b', 'd', 'e'], ['c']);
    for (let i = 0; i < 40 && c.node('c').status().role !== 'preCandidate'; i++) c.tick('c');
    expect(c.node('c').status()).toMatchObject({ role: 'preCandidate', term });
    c.node('c').step(message('preVoteResp', 'd', 'c', term + 1));
    expect(c.node('c').status()).toMatchObject({ role: 'preCandidate', term });
    c.node('c').step(message('preVoteResp', 'e', 'c', term + 1));
    expect(c.node('c').status()).toMatchObject({ role: 'candidate', term: term + 1, vote: 'c' });
    c.node('c').step(message('preVoteResp', 'b', 'c', term + 4, { reject: true }));
    expect(c.node('c').status()).toMatchObject({ role: 'follower', term: term + 4 });
  });

  test('Figure 2: a leader that hears of a higher term in a response steps down at once', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum });
    c.campaign('a');
    const term = c.node('a').status().term;
    c.node('a').step(message('heartbeatResp', 'b', 'a', term + 2));
    expect(c.node('a').status()).toMatchObject({ role: 'follower', term: term + 2, leader: '' });
  });
});

describe('pre-vote and check-quorum', () => {
  test('a partitioned member that rejoins does not depose a healthy leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    const term = c.node('a').status().term;
    c.partition(['a', 'b'], ['c']);
    // c times out again and again but cannot win a pre-vote, so its term stays put.
    for (let i = 0; i < 100; i++) {
      c.tick('c');
      c.tickAll(1);
    }
    expect(c.node('c').status().term).toBe(term);
    c.heal();
    c.tickAll(30);
    expect(c.leader()).toBe('a');
    expect(c.node('a').status().term).toBe(term);
  });

  test('without pre-vote the same partition would raise the term (the scenario is real)', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false });
    c.campaign('a');
    const term = c.node('a').status().term;
    c.partition(['a', 'b'], ['c']);
    c.tickAll(50);
    expect(c.node('c').status().term).toBeGreaterThan(term);
  });

  test('a leader that loses its quorum steps down after an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    c.partition(['a'], ['b', 'c']);
    c.tickAll(25);
    expect(c.node('a').status().role).not.toBe('leader');
    // The majority side elected a new leader.
    expect(['b', 'c']).toContain(c.leader());
  });

  test('a follower inside the leader lease ignores a disruptive vote request', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.campaign('a');
    const term = c.node('b').status().term;
    const vote: Message = {
      type: 'vote',
      from: 'c',
      to: 'b',
      term: term + 5,
      logTerm: 99,
      index: 99,
      entries: [],
      commit: 0,
      reject: false,
      rejectHint: 0,
    };
    c.node('b').step(vote);
    expect(c.node('b').status().term).toBe(term);
    expect(c.node('b').status().leader).toBe('a');
  });

  test('a stale leader learns the new term from a follower and steps down', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    c.campaign('a');
    c.partition(['a'], ['b', 'c']);
    c.campaign('b');
    expect(c.node('b').status().role).toBe('leader');
    expect(c.node('a').status().role).toBe('leader');
    c.heal();
    c.tick('a');
    c.stabilize();
    expect(c.node('a').status().role).toBe('follower');
    expect(c.node('a').status().term).toBe(c.node('b').status().term);
    c.tickAll(1);
    expect(c.node('a').status().leader).toBe('b');
  });
});
