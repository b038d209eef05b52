import type { RaftStatus } from '../raft/types.js';
import { raftStatusToJson } from './status-json.js';

describe('raftStatusToJson', () => {
  it('keeps every field and turns the progress map into an object that survives JSON', () => {
    const match = {
      match: 9,
      next: 10,
      state: 'replicate',
      isLearner: false,
      recentActive: true,
      pendingSnapshot: 0,
      inflight: 1,
    } as const;
    const status: RaftStatus = {
      id: 'a',
      term: 4,
      vote: 'a',
      commit: 10,
      applied: 9,
      lastIndex: 11,
      lastLogTerm: 4,
      leader: 'a',
      role: 'leader',
      leadTransferee: '',
      config: { voters: ['a', 'b'], learners: ['c'] },
      progress: new Map([['b', match]]),
    };
    expect(JSON.parse(JSON.stringify(raftStatusToJson(status)))).toEqual({
      id: 'a',
      term: 4,
      vote: 'a',
      commit: 10,
      applied: 9,
      lastIndex: 11,
      lastLogTerm: 4,
      leader: 'a',
      role: 'leader',
      leadTransferee: '',
      voters: ['a', 'b'],
      learners: ['c'],
      progress: { b: match },
    });
  });
});
