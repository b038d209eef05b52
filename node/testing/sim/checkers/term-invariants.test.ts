import { newMessage, type Message, type Ready } from '../../../src/raft/index.js';
import { checkInput, checkReady, type InputObservation, type TermView } from './term-invariants.js';

function msg(
  type: Message['type'],
  from: string,
  to: string,
  term: number,
  extra: Partial<Message> = {},
): Message {
  return newMessage(type, from, to, { term, ...extra });
}

const follower = (term: number, lead = 'n1', vote = ''): TermView => ({ term, vote, lead, role: 'follower' });

function step(
  m: Message,
  before: TermView,
  after: TermView,
  sent: Message[] = [],
  checkQuorum = false,
): InputObservation {
  return { member: m.to, stepped: m, input: 'step', before, after, sent, checkQuorum };
}

describe('term rules (Figure 2 "All Servers"; the pre-vote and lease exceptions of raft.ts step())', () => {
  test('a member that steps a higher term adopts it at once, and an append makes it follow the sender', () => {
    const app = msg('app', 'n1', 'n2', 5);
    expect(
      checkInput(step(app, follower(4, ''), follower(5, 'n1'), [msg('appResp', 'n2', 'n1', 5)])),
    ).toBeUndefined();
    expect(checkInput(step(app, follower(4, ''), follower(4, '')))).toMatch(
      /higher term 5 was not adopted at once/,
    );
    expect(checkInput(step(app, follower(4, ''), follower(5, '')))).toMatch(
      /adopted without following its sender/,
    );
    const resp = msg('appResp', 'n3', 'n1', 7);
    const leader: TermView = { term: 6, vote: 'n1', lead: 'n1', role: 'leader' };
    expect(checkInput(step(resp, leader, follower(7, '')))).toBeUndefined();
    expect(checkInput(step(resp, leader, leader))).toMatch(/not adopted at once/);
  });

  test('a pre-vote request never changes the receiver term, whatever term it asks about', () => {
    const pv = msg('preVote', 'n3', 'n2', 9);
    const grant = msg('preVoteResp', 'n2', 'n3', 9);
    expect(checkInput(step(pv, follower(4, ''), follower(4, ''), [grant]))).toBeUndefined();
    expect(checkInput(step(pv, follower(4, ''), follower(9, ''), [grant]))).toMatch(
      /a pre-vote request changed the receiver term/,
    );
  });

  test('a granted pre-vote changes the term only by winning the pre-election: one up, voted for itself', () => {
    const pre: TermView = { term: 4, vote: '', lead: '', role: 'preCandidate' };
    const grant = msg('preVoteResp', 'n2', 'n3', 5);
    const won: TermView = { term: 5, vote: 'n3', lead: '', role: 'candidate' };
    const votes = [msg('vote', 'n3', 'n1', 5), msg('vote', 'n3', 'n2', 5)];
    expect(checkInput(step(grant, pre, pre))).toBeUndefined();
    expect(checkInput(step(grant, pre, won, votes))).toBeUndefined();
    expect(checkInput(step(grant, pre, { ...won, term: 6 }, votes))).toMatch(
      /granted pre-vote changed the term/,
    );
    // A rejection carries the rejecter's term and is adopted like any message.
    const reject = msg('preVoteResp', 'n2', 'n3', 8, { reject: true });
    expect(checkInput(step(reject, pre, follower(8, '')))).toBeUndefined();
    expect(checkInput(step(reject, pre, pre))).toMatch(/not adopted at once/);
  });

  test('a vote request of a higher term is ignored only inside a leader lease, and then entirely', () => {
    const vote = msg('vote', 'n3', 'n2', 9, { index: 99, logTerm: 99 });
    const inLease = follower(4, 'n1');
    expect(checkInput(step(vote, inLease, inLease, [], true))).toBeUndefined();
    expect(checkInput(step(vote, inLease, inLease, [], false))).toMatch(/check-quorum is off/);
    expect(checkInput(step(vote, follower(4, ''), follower(4, ''), [], true))).toMatch(
      /without a known leader/,
    );
    const transfer = { ...vote, context: new TextEncoder().encode('transfer') };
    expect(checkInput(step(transfer, inLease, inLease, [], true))).toMatch(/transfer vote request/);
    const answered = [msg('voteResp', 'n2', 'n3', 4, { reject: true })];
    expect(checkInput(step(vote, inLease, inLease, answered, true))).toMatch(/still changed state or sent/);
    const grant = msg('voteResp', 'n2', 'n3', 9);
    expect(checkInput(step(vote, follower(4, ''), follower(9, '', 'n3'), [grant]))).toBeUndefined();
  });

  test('timeoutNow of a higher term: adopt it, then campaign one term later', () => {
    const tn = msg('timeoutNow', 'n1', 'n2', 6);
    const candidate: TermView = { term: 7, vote: 'n2', lead: '', role: 'candidate' };
    expect(checkInput(step(tn, follower(5), candidate, [msg('vote', 'n2', 'n1', 7)]))).toBeUndefined();
    expect(checkInput(step(tn, follower(5), { ...candidate, term: 8 }))).toMatch(/not adopted at once/);
  });

  test('a stale message changes no term, and no input takes a term back', () => {
    const stale = msg('heartbeat', 'n1', 'n2', 3);
    expect(
      checkInput(step(stale, follower(5), follower(5), [msg('appResp', 'n2', 'n1', 5)])),
    ).toBeUndefined();
    expect(checkInput(step(stale, follower(5), follower(6, '')))).toMatch(/stale message \(term 3\) changed/);
    const tick: InputObservation = {
      member: 'n2',
      input: 'tick',
      before: follower(5),
      after: follower(4),
      sent: [],
      checkQuorum: true,
    };
    expect(checkInput(tick)).toMatch(/term went back from 5 to 4/);
  });

  test('sent messages carry the current term; pre-vote requests term + 1 without changing it', () => {
    const tick = (after: TermView, sent: Message[]): InputObservation => ({
      member: 'n2',
      input: 'tick',
      before: follower(4, ''),
      after,
      sent,
      checkQuorum: false,
    });
    const pre: TermView = { term: 4, vote: '', lead: '', role: 'preCandidate' };
    expect(checkInput(tick(pre, [msg('preVote', 'n2', 'n1', 5)]))).toBeUndefined();
    expect(checkInput(tick(pre, [msg('preVote', 'n2', 'n1', 6)]))).toMatch(/must ask about term 5/);
    expect(checkInput(tick({ ...pre, term: 5 }, [msg('preVote', 'n2', 'n1', 6)]))).toMatch(
      /a pre-election changed the pre-candidate term/,
    );
    const candidate: TermView = { term: 5, vote: 'n2', lead: '', role: 'candidate' };
    expect(checkInput(tick(candidate, [msg('vote', 'n2', 'n1', 5)]))).toBeUndefined();
    expect(checkInput(tick(candidate, [msg('vote', 'n2', 'n1', 4)]))).toMatch(
      /must carry the current term 5/,
    );
    expect(checkInput(tick(candidate, [msg('heartbeat', 'n2', 'n1', 0)]))).toMatch(/carries term 0/);
    // A pre-vote grant answers the term asked about; a rejection carries the rejecter's own.
    const pv = msg('preVote', 'n1', 'n2', 7);
    expect(
      checkInput(step(pv, follower(4, ''), follower(4, ''), [msg('preVoteResp', 'n2', 'n1', 4)])),
    ).toMatch(/must carry the term it was asked about/);
    const rejection = msg('preVoteResp', 'n2', 'n1', 7, { reject: true });
    expect(checkInput(step(pv, follower(4), follower(4), [rejection]))).toMatch(
      /must carry the current term 4/,
    );
  });

  test('a Ready never holds a message from a term beyond the member, and a new term is synced', () => {
    const ready = (messages: Message[], term: number, mustSync: boolean): Ready => ({
      hardState: { term, vote: '', commit: 0 },
      entries: [],
      committedEntries: [],
      messages,
      messagesAfterPersist: [],
      readStates: [],
      mustSync,
    });
    expect(checkReady('n2', 5, 4, ready([msg('preVote', 'n2', 'n1', 6)], 5, true))).toBeUndefined();
    expect(checkReady('n2', 5, 4, ready([msg('app', 'n2', 'n1', 6)], 5, true))).toMatch(/beyond its own 5/);
    expect(checkReady('n2', 5, 4, ready([], 5, false))).toMatch(/without mustSync/);
    expect(checkReady('n2', 4, 5, ready([], 4, true))).toMatch(/has term 4, after 5/);
  });
});
