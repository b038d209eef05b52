import { Metadata, status, type ServerUnaryCall } from '@grpc/grpc-js';
import type {
  ForceNewClusterRequest,
  ForceNewClusterResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { raftStatus } from '../../testing/raft/raft-status.js';
import type { RaftStatus } from '../raft/types.js';
import {
  createForceNewClusterHandler,
  forceNewClusterRefusal,
  type ForceNewClusterKept,
} from './force-new-cluster.js';

/** Member demo-0 (id a) of shard 0 that lost its leader: no leader known, a voter of a, b, c. */
const LEADERLESS = raftStatus({ leader: '', role: 'preCandidate' });
const NAMES: Record<string, string> = { a: 'demo-0', b: 'demo-1', c: 'demo-2' };

function refusal(
  request: { shardId: number; member: string },
  st: RaftStatus = LEADERLESS,
): string | undefined {
  return forceNewClusterRefusal({
    request,
    shardId: 0,
    memberName: 'demo-0',
    status: st,
    nameOf: (id) => NAMES[id] ?? id,
  });
}

describe('forceNewClusterRefusal', () => {
  it('lets a voter that knows no leader force a new cluster', () => {
    expect(refusal({ shardId: 0, member: 'demo-0' })).toBeUndefined();
  });

  it('refuses another shard, and a request meant for another member', () => {
    expect(refusal({ shardId: 1, member: 'demo-0' })).toBe('this member serves shard 0, not 1');
    expect(refusal({ shardId: 0, member: 'demo-1' })).toBe(
      'this member is demo-0, not demo-1; ask demo-1 itself',
    );
    expect(refusal({ shardId: 0, member: '' })).toBe(
      'name the member to force (member is empty); this member is demo-0',
    );
  });

  it('refuses while a leader is known: the group has a quorum and forcing would fork it', () => {
    expect(refusal({ shardId: 0, member: 'demo-0' }, raftStatus({ leader: 'a', role: 'leader' }))).toBe(
      'this member leads shard 0 in term 4: the group has a quorum; forcing a new cluster would fork it',
    );
    expect(refusal({ shardId: 0, member: 'demo-0' }, raftStatus({ leader: 'b', role: 'follower' }))).toBe(
      'this member follows leader demo-1 in term 4: the group has a quorum; forcing a new cluster would fork it',
    );
  });

  it('refuses a learner or a removed member: only a voter can be the one voter', () => {
    const learner = raftStatus({ leader: '', config: { voters: ['b', 'c'], learners: ['a'] } });
    expect(refusal({ shardId: 0, member: 'demo-0' }, learner)).toBe(
      'this member (a) is not a voter (voters b, c): only a voter can become the one voter of a new cluster',
    );
  });
});

describe('ForceNewCluster handler', () => {
  const call = (
    handler: ReturnType<typeof createForceNewClusterHandler>,
    request: ForceNewClusterRequest,
  ): Promise<ForceNewClusterResponse> =>
    new Promise((resolve, reject) => {
      const c = { request, metadata: new Metadata() } as unknown as ServerUnaryCall<
        ForceNewClusterRequest,
        ForceNewClusterResponse
      >;
      handler.forceNewCluster(c, (error, response) => {
        if (error)
          reject(Object.assign(new Error(error.details), { code: error.code, details: error.details }));
        else resolve(response!);
      });
    });

  const handler = (st: RaftStatus, force?: () => Promise<ForceNewClusterKept>) =>
    createForceNewClusterHandler({
      shardId: 0,
      memberName: 'demo-0',
      status: () => st,
      nameOf: (id) => NAMES[id] ?? id,
      header: () => ({ revision: 1, leader: '', member: 'demo-0', term: 4 }),
      limit: { current: 0, max: 10 },
      ...(force ? { forceNewCluster: force } : {}),
    });

  it('answers with what the member keeps once it recorded the request', async () => {
    let asked = 0;
    const h = handler(LEADERLESS, () => {
      asked++;
      return Promise.resolve({ commit: 12, lastIndex: 15, lastLogTerm: 3 });
    });
    await expect(call(h, { shardId: 0, member: 'demo-0' })).resolves.toMatchObject({
      commit: 12,
      lastIndex: 15,
      lastLogTerm: 3,
    });
    expect(asked).toBe(1);
  });

  it('refuses with FAILED_PRECONDITION without touching the member', async () => {
    let asked = 0;
    const h = handler(raftStatus(), () => {
      asked++;
      return Promise.resolve({ commit: 0, lastIndex: 0, lastLogTerm: 0 });
    });
    await expect(call(h, { shardId: 0, member: 'demo-0' })).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details:
        'this member follows leader demo-1 in term 4: the group has a quorum; forcing a new cluster would fork it',
    });
    expect(asked).toBe(0);
  });

  it('is UNIMPLEMENTED where the member cannot restart itself', async () => {
    await expect(call(handler(LEADERLESS), { shardId: 0, member: 'demo-0' })).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
    });
  });
});
