import { newMessage, type Message } from '../../../src/raft/index.js';
import { VoteSafetyChecker } from './vote-safety.js';

function msg(type: Message['type'], from: string, to: string, term: number, reject = false): Message {
  return newMessage(type, from, to, { term, reject });
}

describe('VoteSafetyChecker (Raft §5.2: at most one vote per server and term, kept across crashes)', () => {
  test('a grant to a second candidate in the same term is flagged', () => {
    const c = new VoteSafetyChecker();
    expect(c.observeSent(msg('voteResp', 'n3', 'n1', 5))).toBeUndefined();
    expect(c.observeSent(msg('voteResp', 'n3', 'n2', 5))).toMatch(
      /n3 voted for n1 in term 5, then for n2 in the same term/,
    );
  });

  test('a candidate asking for votes has voted for itself: granting another one that term is flagged', () => {
    const c = new VoteSafetyChecker();
    expect(c.observeSent(msg('vote', 'n2', 'n1', 7))).toBeUndefined();
    expect(c.observeSent(msg('vote', 'n2', 'n3', 7))).toBeUndefined();
    expect(c.observeSent(msg('voteResp', 'n2', 'n3', 7))).toMatch(/n2 voted for n2 in term 7, then for n3/);
  });

  test('repeated grants to one candidate, rejections, pre-votes and other terms are fine', () => {
    const c = new VoteSafetyChecker();
    expect(c.observeSent(msg('voteResp', 'n3', 'n1', 5))).toBeUndefined();
    expect(c.observeSent(msg('voteResp', 'n3', 'n1', 5))).toBeUndefined();
    expect(c.observeSent(msg('voteResp', 'n3', 'n2', 5, true))).toBeUndefined();
    expect(c.observeSent(msg('preVoteResp', 'n3', 'n2', 5))).toBeUndefined();
    expect(c.observeSent(msg('preVote', 'n3', 'n2', 5))).toBeUndefined();
    expect(c.observeSent(msg('voteResp', 'n3', 'n2', 6))).toBeUndefined();
    expect(c.size()).toBe(2);
  });
});
