// A RaftStatus for tests of what reads one (probes, metrics, admin answers): a follower of leader b in a 3-voter
// configuration, every index at 10, unless overridden.
import type { ProgressStatus, RaftStatus } from '../../src/raft/types.js';

export function raftStatus(overrides: Partial<RaftStatus> = {}): RaftStatus {
  return {
    id: 'a',
    term: 4,
    vote: '',
    commit: 10,
    applied: 10,
    lastIndex: 10,
    lastLogTerm: 4,
    leader: 'b',
    role: 'follower',
    leadTransferee: '',
    config: { voters: ['a', 'b', 'c'], learners: [] },
    progress: new Map(),
    ...overrides,
  };
}

/** A follower's replication progress as the leader tracks it: replicating, active, caught up to `match`. */
export function progressStatus(match: number): ProgressStatus {
  return {
    match,
    next: match + 1,
    state: 'replicate',
    isLearner: false,
    recentActive: true,
    pendingSnapshot: 0,
    inflight: 0,
  };
}
