// Recovery from permanent quorum loss, opt-in (the raftstore.dev/recover-quorum-loss annotation): a shard whose
// reachable voters cannot form a quorum never elects a leader again by itself. The operator picks the reachable voter
// with the most up-to-date log (highest last log term, then last index: the one an election would have preferred) and
// asks it to restart as a one-voter cluster keeping its data, like etcd's --force-new-cluster. Everything it had
// committed survives; writes the lost majority acknowledged after its commit index may not, and the status record
// and the Event say so with the numbers. The other members then rejoin through the usual steps: a fresh volume joins
// as a learner, a volume holding a removed member's data is wiped first (fence.ts).
//
// Etcd-druid's RecoverFromQuorumLoss restores every member from a backup; this keeps the survivor's newer data.
import { quorum } from '../health/health.js';
import type { ObservedPod, RaftMember } from '../model/observed.js';
import type { ShardContext } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/** The member a forced recovery keeps: the most up-to-date log, then the lowest ordinal (deterministic). */
export function mostUpToDate(pods: readonly ObservedPod[]): ObservedPod | undefined {
  return [...pods].sort(
    (a, b) =>
      (b.identity?.lastLogTerm ?? 0) - (a.identity?.lastLogTerm ?? 0) ||
      (b.identity?.lastIndex ?? 0) - (a.identity?.lastIndex ?? 0) ||
      a.ordinal - b.ordinal,
  )[0];
}

/**
 * The recovery step for a shard when `token` (a recovery the user asked for and that was not done for this shard
 * yet) is set and the shard has truly lost its quorum; undefined otherwise.
 */
export function recoverQuorumLoss(ctx: ShardContext, token: string | undefined): Step | undefined {
  if (token === undefined) return undefined;
  const { obs } = ctx;
  const raft = obs.raft;
  // Without any member's view of the configuration there is nobody to keep: wait for one to answer.
  if (raft.kind !== 'members') return undefined;
  const leader = raft.members.find((m) => m.id === raft.leaderId);
  if (leader !== undefined) return undefined; // a leader means a quorum: nothing to recover
  const voters = raft.members.filter((m) => m.role === 'voter');
  const live = (m: RaftMember): ObservedPod | undefined => {
    const pod = obs.pods.find((p) => p.name === m.name);
    // Reachable as itself: it answered Status under the id the configuration holds, and is not going away.
    return pod !== undefined && !pod.deleting && pod.identity?.id === m.id && pod.identity.joined
      ? pod
      : undefined;
  };
  const reachable = voters.map(live).filter((p): p is ObservedPod => p !== undefined);
  const lost = `shard ${obs.shard} lost its quorum (${reachable.length} of ${voters.length} voters reachable)`;
  if (reachable.length >= quorum(voters.length)) {
    // Enough voters to elect a leader: an election is under way (or a network problem that will heal).
    return undefined;
  }
  const keep = mostUpToDate(reachable);
  if (keep === undefined) {
    return waitStep(ctx, 'Recover', 'ForceNewCluster', `${lost}; no voter is reachable to keep`);
  }
  const id = keep.identity!;
  return {
    type: 'Recover',
    step: 'ForceNewCluster',
    message:
      `${lost}; recovery ${token}: restarting ${keep.name} (last log term ${id.lastLogTerm ?? 0}, index ` +
      `${id.lastIndex ?? 0}, commit ${id.commit ?? 0}) as a one-voter cluster that keeps its data; the others ` +
      'rejoin as fresh learners',
    shard: obs.shard,
    member: keep.name,
    memberId: id.id,
    action: { type: 'ForceNewCluster', shard: obs.shard, member: keep.name, token },
  };
}
