// The admin service used by the operator and raftctl. Membership requests are idempotent (re-sending an add for a
// member that is already there succeeds), so a controller that crashed between two steps can simply retry.
// Requests that need the leader are forwarded to it once.
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  MemberRole,
  type ClusterServer,
  type Member,
  type MemberListResponse,
  type StatusResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import type * as wire from '../../shared/api/generated/raftstore/v1/cluster.js';
import type { ResponseHeader } from '../../shared/api/generated/raftstore/v1/common.js';
import { MAX_DATA_FORMAT } from '../../shared/versioning/data-format.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { ApplyOutcome } from '../kv/types.js';
import type { NodeId, RaftStatus } from '../raft/types.js';
import { memberContext } from '../replica/member-directory.js';
import type { RaftReplica } from '../replica/raft-replica.js';
import { StatusError } from './grpc-errors.js';
import { isForwarded, type LeaderForwarder } from './leader-forwarder.js';
import { InvalidRequestError } from './request-error.js';
import { createDataFormatHandler } from './data-format-admin.js';
import { createForceNewClusterHandler, type ForceNewClusterKept } from './force-new-cluster.js';
import { createSlotAdminHandlers } from './slot-admin.js';
import { unaryHandler, type InFlightLimit, type RpcObserver } from './unary-handler.js';

export interface ClusterServiceOptions {
  readonly shardId: number;
  readonly memberName: string;
  readonly incarnation: string;
  readonly version: string;
  readonly replica: RaftReplica<ApplyOutcome>;
  readonly forwarder: LeaderForwarder;
  /** Milliseconds since the transport last delivered something to `id` (undefined: never). */
  readonly lastContactMs: (id: NodeId) => number | undefined;
  /** A learner is promoted only when it is at most this many entries behind the leader. */
  readonly maxPromoteLagEntries: number;
  readonly maxInFlight: number;
  readonly observer?: RpcObserver;
  /** ForceNewCluster once nothing refuses it: records the request and stops the member (see force-new-cluster.ts). */
  readonly forceNewCluster?: () => Promise<ForceNewClusterKept>;
}

/**
 * How long MemberList waits for the leader it forwards to: well inside the operator's admin deadline (3 s), so a
 * dead leader costs the caller a second and an answer, not a timeout.
 */
export const MEMBER_LIST_FORWARD_MS = 1000;

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export function createClusterService(options: ClusterServiceOptions): ClusterServer {
  const { replica, forwarder } = options;
  const limit: InFlightLimit = { current: 0, max: options.maxInFlight };

  const header = (): ResponseHeader => {
    const st = replica.status();
    return {
      revision: (replica.stateMachine as KvStateMachine).revision,
      leader: replica.directory.get(st.leader)?.name ?? st.leader,
      member: options.memberName,
      term: st.term,
    };
  };

  const checkShard = (shardId: number): void => {
    if (shardId !== options.shardId) {
      throw new StatusError(
        status.FAILED_PRECONDITION,
        `this member serves shard ${options.shardId}, not ${shardId}`,
      );
    }
  };

  /** The members as this member sees them; replication figures are real only on the leader. */
  const members = (st: RaftStatus): Member[] => {
    const ids = [...st.config.voters, ...st.config.learners];
    return ids.map((id): Member => {
      const info = replica.directory.get(id);
      const progress = st.progress.get(id);
      const isSelf = id === replica.id;
      const match = isSelf ? st.lastIndex : (progress?.match ?? 0);
      const contact = isSelf ? 0 : options.lastContactMs(id);
      return {
        name: info?.name ?? id,
        id,
        address: info?.peerAddress ?? '',
        clientAddress: info?.clientAddress ?? '',
        role:
          id === st.leader
            ? MemberRole.MEMBER_ROLE_LEADER
            : st.config.learners.includes(id)
              ? MemberRole.MEMBER_ROLE_LEARNER
              : MemberRole.MEMBER_ROLE_FOLLOWER,
        matchIndex: match,
        lag: st.role === 'leader' ? Math.max(0, st.lastIndex - match) : 0,
        lastContactMs: contact ?? 0,
        incarnation: isSelf ? options.incarnation : '',
        version: isSelf ? options.version : '',
        healthy: isSelf || (st.role === 'leader' ? (progress?.recentActive ?? false) : contact !== undefined),
      };
    });
  };

  /** Runs `local` on the leader; forwards to the leader otherwise (at most once). */
  const onLeader = async <Req, Res>(
    call: ServerUnaryCall<Req, Res>,
    local: () => Promise<Res>,
    forward: (address: string) => Promise<Res>,
  ): Promise<Res> => {
    const leader = replica.status().leader;
    if (leader === replica.id) return local();
    if (leader === '')
      throw new StatusError(status.UNAVAILABLE, 'no leader is known right now; retry shortly');
    if (isForwarded(call.metadata)) throw new StatusError(status.UNAVAILABLE, 'leadership moved; retry');
    const address = replica.directory.get(leader)?.peerAddress;
    if (!address) throw new StatusError(status.UNAVAILABLE, `the address of leader ${leader} is not known`);
    return forward(address);
  };

  const resolveId = (idOrName: string): NodeId => {
    const st = replica.status();
    if ([...st.config.voters, ...st.config.learners].includes(idOrName)) return idOrName;
    const byName = replica.directory
      .all()
      .find((m) => m.name === idOrName && [...st.config.voters, ...st.config.learners].includes(m.id));
    return byName?.id ?? idOrName;
  };

  const slotAdmin = createSlotAdminHandlers({
    replica,
    forwarder,
    limit,
    header,
    checkShard,
    onLeader,
    now: Date.now,
    ...(options.observer !== undefined ? { observer: options.observer } : {}),
  });

  const forceNewCluster = createForceNewClusterHandler({
    shardId: options.shardId,
    memberName: options.memberName,
    status: () => replica.status(),
    nameOf: (id) => replica.directory.get(id)?.name ?? id,
    header,
    limit,
    ...(options.observer !== undefined ? { observer: options.observer } : {}),
    ...(options.forceNewCluster !== undefined ? { forceNewCluster: options.forceNewCluster } : {}),
  });

  const dataFormat = createDataFormatHandler({
    shardId: options.shardId,
    replica,
    forwarder,
    limit,
    header,
    checkShard,
    onLeader,
    now: Date.now,
    ...(options.observer !== undefined ? { observer: options.observer } : {}),
  });

  /** The group's data format as this member applied it. */
  const dataFormatHere = (): number => (replica.stateMachine as KvStateMachine).dataFormat;

  return {
    ...slotAdmin,
    ...forceNewCluster,
    ...dataFormat,
    memberList: unaryHandler<wire.MemberListRequest, MemberListResponse>(
      'Cluster',
      'MemberList',
      limit,
      options.observer,
      async (req, call) => {
        checkShard(req.shardId);
        const st = replica.status();
        // Without a leader (quorum lost) a member's own view is still worth reporting: it is all there is.
        if (st.leader === '' || st.leader === replica.id || isForwarded(call.metadata)) {
          return { header: header(), members: members(st), dataFormat: dataFormatHere() };
        }
        try {
          return await onLeader(
            call,
            () =>
              Promise.resolve({
                header: header(),
                members: members(replica.status()),
                dataFormat: dataFormatHere(),
              }),
            (address) =>
              forwarder.call<MemberListResponse>(
                (md, o, cb) => forwarder.clusterClient(address).memberList(req, md, o, cb),
                MEMBER_LIST_FORWARD_MS,
              ),
          );
        } catch {
          // The leader this member last heard of does not answer (its pod was just deleted, say) and this member
          // has not yet timed it out. Its own view, without a leader it cannot reach, is the truth from here:
          // the operator then sees a shard with no reachable leader, not a shard where nobody answered.
          return {
            header: header(),
            members: members({ ...replica.status(), leader: '' }),
            dataFormat: dataFormatHere(),
          };
        }
      },
    ),

    addLearner: unaryHandler<wire.AddLearnerRequest, wire.AddLearnerResponse>(
      'Cluster',
      'AddLearner',
      limit,
      options.observer,
      (req, call) => {
        checkShard(req.shardId);
        if (!req.id || !req.name) throw new InvalidRequestError('id and name are required');
        if (!HOST_PORT.test(req.address))
          throw new InvalidRequestError(`address "${req.address}" is not host:port`);
        if (!HOST_PORT.test(req.clientAddress)) {
          throw new InvalidRequestError(`client_address "${req.clientAddress}" is not host:port`);
        }
        return onLeader(
          call,
          async () => {
            const st = replica.status();
            const current = [...st.config.voters, ...st.config.learners];
            if (!current.includes(req.id)) {
              const sameName = replica.directory
                .all()
                .find((m) => m.name === req.name && current.includes(m.id));
              if (sameName) {
                throw new StatusError(
                  status.FAILED_PRECONDITION,
                  `member ${req.name} is still in the configuration as ${sameName.id}; remove it before adding ${req.id}`,
                );
              }
              const context = memberContext({
                name: req.name,
                peerAddress: req.address,
                clientAddress: req.clientAddress,
              });
              await replica.proposeConfChange({ type: 'addLearner', nodeId: req.id, context });
            }
            return { header: header(), members: members(replica.status()) };
          },
          (address) =>
            forwarder.call<wire.AddLearnerResponse>((md, o, cb) =>
              forwarder.clusterClient(address).addLearner(req, md, o, cb),
            ),
        );
      },
    ),

    promote: unaryHandler<wire.PromoteRequest, wire.PromoteResponse>(
      'Cluster',
      'Promote',
      limit,
      options.observer,
      (req, call) => {
        checkShard(req.shardId);
        return onLeader(
          call,
          async () => {
            const id = resolveId(req.id);
            const st = replica.status();
            if (!st.config.voters.includes(id)) {
              if (!st.config.learners.includes(id)) {
                throw new StatusError(status.NOT_FOUND, `${req.id} is not a learner of this shard`);
              }
              const lag = st.lastIndex - (st.progress.get(id)?.match ?? 0);
              if (lag > options.maxPromoteLagEntries) {
                throw new StatusError(
                  status.FAILED_PRECONDITION,
                  `learner ${req.id} is ${lag} entries behind (at most ${options.maxPromoteLagEntries} to be promoted); retry when it caught up`,
                );
              }
              await replica.proposeConfChange({ type: 'promote', nodeId: id });
            }
            return { header: header(), members: members(replica.status()) };
          },
          (address) =>
            forwarder.call<wire.PromoteResponse>((md, o, cb) =>
              forwarder.clusterClient(address).promote(req, md, o, cb),
            ),
        );
      },
    ),

    removeMember: unaryHandler<wire.RemoveMemberRequest, wire.RemoveMemberResponse>(
      'Cluster',
      'RemoveMember',
      limit,
      options.observer,
      (req, call) => {
        checkShard(req.shardId);
        return onLeader(
          call,
          async () => {
            const id = resolveId(req.id);
            const st = replica.status();
            if ([...st.config.voters, ...st.config.learners].includes(id)) {
              if (id === replica.id) {
                // Removing the leader: hand leadership over first so writes pause for one transfer, not an election.
                const next = await replica.transferLeadership();
                const address = replica.directory.get(next)?.peerAddress;
                if (!address)
                  throw new StatusError(status.UNAVAILABLE, `the address of new leader ${next} is not known`);
                return forwarder.call<wire.RemoveMemberResponse>((md, o, cb) =>
                  forwarder.clusterClient(address).removeMember({ ...req, id }, md, o, cb),
                );
              }
              await replica.proposeConfChange({ type: 'remove', nodeId: id });
            }
            return { header: header(), members: members(replica.status()) };
          },
          (address) =>
            forwarder.call<wire.RemoveMemberResponse>((md, o, cb) =>
              forwarder.clusterClient(address).removeMember(req, md, o, cb),
            ),
        );
      },
    ),

    transferLeadership: unaryHandler<wire.TransferLeadershipRequest, wire.TransferLeadershipResponse>(
      'Cluster',
      'TransferLeadership',
      limit,
      options.observer,
      (req, call) => {
        checkShard(req.shardId);
        return onLeader(
          call,
          async () => {
            const to = req.toMember === '' ? undefined : resolveId(req.toMember);
            if (to === replica.id) return { header: header(), leader: options.memberName };
            const next = await replica.transferLeadership(to);
            return { header: header(), leader: replica.directory.get(next)?.name ?? next };
          },
          (address) =>
            forwarder.call<wire.TransferLeadershipResponse>((md, o, cb) =>
              forwarder.clusterClient(address).transferLeadership(req, md, o, cb),
            ),
        );
      },
    ),

    status: unaryHandler<wire.StatusRequest, StatusResponse>(
      'Cluster',
      'Status',
      limit,
      options.observer,
      (req) => {
        checkShard(req.shardId);
        const st = replica.status();
        const isMember = [...st.config.voters, ...st.config.learners].includes(replica.id);
        const ownership = (replica.stateMachine as KvStateMachine).ownership;
        return Promise.resolve({
          header: header(),
          term: st.term,
          leader: replica.directory.get(st.leader)?.name ?? st.leader,
          commit: st.commit,
          applied: (replica.stateMachine as KvStateMachine).appliedIndex,
          voters: [...st.config.voters],
          learners: [...st.config.learners],
          shardId: options.shardId,
          member: options.memberName,
          id: replica.id,
          version: options.version,
          incarnation: options.incarnation,
          role:
            st.role === 'leader'
              ? MemberRole.MEMBER_ROLE_LEADER
              : st.config.learners.includes(replica.id)
                ? MemberRole.MEMBER_ROLE_LEARNER
                : MemberRole.MEMBER_ROLE_FOLLOWER,
          lastIndex: st.lastIndex,
          lastLogTerm: st.lastLogTerm,
          isMember,
          slotsOwned: ownership.ownedCount,
          slotsMoving: ownership.movingCount,
          slotMapEpoch: ownership.epoch,
          dataFormat: dataFormatHere(),
          maxDataFormat: MAX_DATA_FORMAT,
        });
      },
    ),

    snapshot: unaryHandler<wire.SnapshotRequest, wire.SnapshotResponse>(
      'Cluster',
      'Snapshot',
      limit,
      options.observer,
      async (req) => {
        checkShard(req.shardId);
        const snapshot = await replica.requestSnapshot();
        return {
          header: header(),
          index: snapshot.metadata.index,
          term: snapshot.metadata.term,
          sizeBytes: snapshot.data.byteLength,
        };
      },
    ),
  };
}
