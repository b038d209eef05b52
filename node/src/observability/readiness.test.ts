import { raftStatus } from '../../testing/raft/raft-status.js';
import { appliedCaughtUpCheck, hasLeaderCheck, readinessOf, votingMemberCheck } from './readiness.js';

describe('hasLeaderCheck', () => {
  it('passes with a known leader and fails without one', () => {
    expect(hasLeaderCheck(raftStatus({}))).toEqual({
      name: 'has-leader',
      ok: true,
      message: 'leader b in term 4',
    });
    expect(hasLeaderCheck(raftStatus({ leader: '' }))).toEqual({
      name: 'has-leader',
      ok: false,
      message: 'no leader known in term 4',
    });
  });
});

describe('appliedCaughtUpCheck', () => {
  it('passes up to the allowed lag and fails beyond it', () => {
    expect(appliedCaughtUpCheck(raftStatus({ commit: 15, applied: 10 }), 5)).toEqual({
      name: 'applied-caught-up',
      ok: true,
      message: 'applied 10 of 15 committed entries (lag 5, allowed 5)',
    });
    expect(appliedCaughtUpCheck(raftStatus({ commit: 16, applied: 10 }), 5).ok).toBe(false);
  });

  it('refuses a nonsensical bound', () => {
    expect(() => appliedCaughtUpCheck(raftStatus({}), -1)).toThrow(/non-negative integer, got -1/);
  });
});

describe('votingMemberCheck', () => {
  it('passes for voters and says why learners and strangers fail', () => {
    expect(votingMemberCheck(raftStatus({})).ok).toBe(true);
    expect(votingMemberCheck(raftStatus({ config: { voters: ['b'], learners: ['a'] } }))).toEqual({
      name: 'voting-member',
      ok: false,
      message: 'a is a learner, not yet promoted',
    });
    expect(votingMemberCheck(raftStatus({ config: { voters: ['b'], learners: [] } })).message).toBe(
      'a is not in the configuration',
    );
  });
});

describe('readinessOf', () => {
  it('is ready only when there are checks and all pass', () => {
    const pass = hasLeaderCheck(raftStatus({}));
    const fail = hasLeaderCheck(raftStatus({ leader: '' }));
    expect(readinessOf([pass])).toEqual({ ready: true, checks: [pass] });
    expect(readinessOf([pass, fail]).ready).toBe(false);
    expect(readinessOf([]).ready).toBe(false);
  });
});
