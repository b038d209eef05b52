// One shard as the planner's per-shard steps see it. The member list is read into these few facts once, so that
// bootstrap, fencing, scaling, recovery and rollout all judge "who is a voter", "who is caught up" and "what may be
// removed" the same way.
import type { RaftClusterSpec } from '../api/raftcluster.js';
import { ordinalOf, podName } from '../children/names.js';
import { quorum } from '../health/health.js';
import type {
  ObservedPod,
  ObservedShard,
  ObservedStatefulSet,
  RaftMember,
  RaftView,
} from '../model/observed.js';
import type { PlannerOptions } from './options.js';

/** What planning one shard starts from: the cluster's wishes and the shard as observed. */
export interface ShardContext {
  clusterName: string;
  namespace: string;
  spec: RaftClusterSpec;
  image: string;
  options: PlannerOptions;
  obs: ObservedShard;
  /** A quorum-loss recovery the user asked for (its token) that was not carried out for this shard yet. */
  quorumRecoveryToken?: string;
}

/** The leader's answer: a member list (the other kind, unreachable, leaves nothing to view). */
export type MemberList = Extract<RaftView, { kind: 'members' }>;

/** A shard whose StatefulSet exists and whose member list was read. */
export interface ShardView extends ShardContext {
  shard: number;
  sts: ObservedStatefulSet;
  raft: MemberList;
  members: readonly RaftMember[];
  byName: ReadonlyMap<string, RaftMember>;
  memberIds: ReadonlySet<string>;
  voters: readonly RaftMember[];
  healthyVoters: number;
  /** Undefined when no member holds the leader's id (no leader, or one not in the list yet). */
  leader: RaftMember | undefined;
  /** Lowest ordinal first. */
  pods: readonly ObservedPod[];
  podByName: ReadonlyMap<string, ObservedPod>;
}

export function viewShard(ctx: ShardContext, sts: ObservedStatefulSet, raft: MemberList): ShardView {
  const members = raft.members;
  const voters = members.filter((m) => m.role === 'voter');
  const pods = [...ctx.obs.pods].sort((a, b) => a.ordinal - b.ordinal);
  return {
    ...ctx,
    shard: ctx.obs.shard,
    sts,
    raft,
    members,
    byName: new Map(members.map((m) => [m.name, m])),
    memberIds: new Set(members.map((m) => m.id)),
    voters,
    healthyVoters: voters.filter((m) => m.healthy).length,
    leader: members.find((m) => m.id === raft.leaderId),
    pods,
    podByName: new Map(pods.map((p) => [p.name, p])),
  };
}

export function podNameOf(ctx: ShardContext, ordinal: number): string {
  return podName(ctx.clusterName, ctx.obs.shard, ordinal);
}

/** The ordinal of this shard's pod that a member's name belongs to; undefined for a name of no pod of this shard. */
export function memberOrdinal(view: ShardView, name: string): number | undefined {
  return ordinalOf(view.clusterName, view.shard, name);
}

/** Entries the member is behind the leader. */
export function lag(view: ShardView, m: RaftMember): number {
  return Math.max(0, view.raft.lastIndex - m.matchIndex);
}

export function caughtUp(view: ShardView, m: RaftMember): boolean {
  return m.healthy && lag(view, m) <= view.options.learnerLagMax;
}

/** Removing a member must leave a configuration whose healthy voters still form a quorum. */
export function safeToRemove(view: ShardView, m: RaftMember): boolean {
  if (m.role === 'learner') return true;
  const remaining = view.voters.length - 1;
  const remainingHealthy = view.healthyVoters - (m.healthy ? 1 : 0);
  return remaining >= 1 && remainingHealthy >= quorum(remaining);
}
