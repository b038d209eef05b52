// The Cluster service's ForceNewCluster RPC: recovery from permanent quorum loss, keeping this member's data. The
// service decides only whether to refuse (a pure check here); what the member then does — stop, record the request,
// restart as the group's one voter — belongs to the process (node/src/process/force-new-cluster-request.ts) and is
// passed in. Every refusal is FAILED_PRECONDITION: the request is well formed but aimed at the wrong member or at a
// group that still has a quorum, and retrying it unchanged cannot help.
import { status } from '@grpc/grpc-js';
import type * as wire from '../../shared/api/generated/raftstore/v1/cluster.js';
import type { ResponseHeader } from '../../shared/api/generated/raftstore/v1/common.js';
import type { NodeId, RaftStatus } from '../raft/types.js';
import { StatusError } from './grpc-errors.js';
import { unaryHandler, type InFlightLimit, type RpcObserver } from './unary-handler.js';

/** What the member keeps: its log up to `commit`; entries after it are discarded. */
export interface ForceNewClusterKept {
  readonly commit: number;
  readonly lastIndex: number;
  readonly lastLogTerm: number;
}

export interface ForceNewClusterRequestFacts {
  readonly request: { readonly shardId: number; readonly member: string };
  readonly shardId: number;
  readonly memberName: string;
  readonly status: RaftStatus;
  /** A member's name for a Raft id (the id itself when unknown). */
  readonly nameOf: (id: NodeId) => string;
}

/** Why this member must not force a new cluster now, or undefined when it may. Pure. */
export function forceNewClusterRefusal(f: ForceNewClusterRequestFacts): string | undefined {
  const { request, status: st } = f;
  if (request.shardId !== f.shardId) return `this member serves shard ${f.shardId}, not ${request.shardId}`;
  if (request.member !== f.memberName) {
    return request.member === ''
      ? `name the member to force (member is empty); this member is ${f.memberName}`
      : `this member is ${f.memberName}, not ${request.member}; ask ${request.member} itself`;
  }
  // A known leader means a quorum answered it within an election timeout (the core forgets a leader it has not heard
  // from for that long, and a leader steps down when it no longer hears a quorum): forcing would fork the group.
  if (st.role === 'leader' || st.leader === st.id) {
    return `this member leads shard ${f.shardId} in term ${st.term}: the group has a quorum; forcing a new cluster would fork it`;
  }
  if (st.leader !== '') {
    return `this member follows leader ${f.nameOf(st.leader)} in term ${st.term}: the group has a quorum; forcing a new cluster would fork it`;
  }
  if (!st.config.voters.includes(st.id)) {
    return `this member (${st.id}) is not a voter (voters ${st.config.voters.join(', ') || 'none'}): only a voter can become the one voter of a new cluster`;
  }
  return undefined;
}

export interface ForceNewClusterHandlerOptions {
  readonly shardId: number;
  readonly memberName: string;
  readonly status: () => RaftStatus;
  readonly nameOf: (id: NodeId) => string;
  readonly header: () => ResponseHeader;
  readonly limit: InFlightLimit;
  readonly observer?: RpcObserver;
  /**
   * Records the request durably and stops this member, which exits to be restarted as the one voter. Rejects with a
   * StatusError when it must refuse after all. Absent: the member cannot restart itself and the RPC is UNIMPLEMENTED.
   */
  readonly forceNewCluster?: () => Promise<ForceNewClusterKept>;
}

export function createForceNewClusterHandler(
  o: ForceNewClusterHandlerOptions,
): Pick<wire.ClusterServer, 'forceNewCluster'> {
  return {
    forceNewCluster: unaryHandler<wire.ForceNewClusterRequest, wire.ForceNewClusterResponse>(
      'Cluster',
      'ForceNewCluster',
      o.limit,
      o.observer,
      async (req) => {
        const refusal = forceNewClusterRefusal({
          request: req,
          shardId: o.shardId,
          memberName: o.memberName,
          status: o.status(),
          nameOf: o.nameOf,
        });
        if (refusal !== undefined) throw new StatusError(status.FAILED_PRECONDITION, refusal);
        if (o.forceNewCluster === undefined) {
          throw new StatusError(
            status.UNIMPLEMENTED,
            'this member cannot restart itself to force a new cluster',
          );
        }
        const kept = await o.forceNewCluster();
        return {
          header: o.header(),
          commit: kept.commit,
          lastIndex: kept.lastIndex,
          lastLogTerm: kept.lastLogTerm,
        };
      },
    ),
  };
}
