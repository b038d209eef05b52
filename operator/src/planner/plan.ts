// The planner: a pure function from the observed state to the next action. Level-based: it derives the step from
// what it sees (StatefulSets, pods, PVCs, the Raft member list, the pods' own identities), so replaying it after a
// crash between any two steps picks up where the cluster is, not where a log says it was. The previous status's
// operation is read only to keep its startedAt (step timeouts) stable across reconciles.
import { desiredImage, RECOVER_QUORUM_LOSS_ANNOTATION, type Operation } from '../api/raftcluster.js';
import type { ObservedCluster } from '../model/observed.js';
import type { Plan } from './action.js';
import { DEFAULT_PLANNER_OPTIONS, type PlannerOptions } from './options.js';
import type { Step } from './step.js';
import { viewShard, type ShardContext } from './shard-view.js';
import { applyChildren } from './apply-children.js';
import { finishBootstrap } from './bootstrap.js';
import { removeStaleId, wipeRemovedMember } from './fence.js';
import { addLearner, promoteLearner, startNextPod } from './scale-up.js';
import { deleteScaledAwayVolume, removeSurplusMember } from './scale-down.js';
import { waitForLeader, waitForMemberList, waitForWantedMembers } from './recover.js';
import { rollOut } from './rollout.js';
import { replaceLostMember } from './replace-lost-member.js';
import { nextReshardStep } from './reshard.js';
import { growVolumes } from './grow-volumes.js';
import { recoverQuorumLoss } from './recover-quorum-loss.js';
import { lowerDataFormat, raiseDataFormat } from './data-format.js';
import { effectiveCluster, judgeVersion } from './version-policy.js';

// The planner's entry point: callers import plan and its options from here.
export { DEFAULT_PLANNER_OPTIONS, type PlannerOptions } from './options.js';

export function plan(
  asObserved: ObservedCluster,
  now: Date,
  options: PlannerOptions = DEFAULT_PLANNER_OPTIONS,
): Plan {
  // A version change the policy refuses is not rolled out: every step plans with the version the members run.
  const version = judgeVersion(asObserved);
  const observed = { ...asObserved, cluster: effectiveCluster(asObserved.cluster, version) };
  return { ...planSteps(observed, now, options), version };
}

function planSteps(observed: ObservedCluster, now: Date, options: PlannerOptions): Omit<Plan, 'version'> {
  const { cluster } = observed;
  const spec = cluster.spec;
  const image = desiredImage(spec);
  const previous = cluster.status?.operation;

  // Children first: applying them never restarts a pod, so it goes ahead even while paused.
  const children = applyChildren(observed, image);
  if (children !== undefined) return toPlan(children, previous, now, options);
  // Growing volumes restarts no pod either: claims ask for more, StatefulSets are re-created around their pods.
  const grow = growVolumes(observed);
  if (grow !== undefined) return toPlan(grow, previous, now, options);

  let firstWait: Step | undefined;
  const token = cluster.metadata.annotations?.[RECOVER_QUORUM_LOSS_ANNOTATION];
  for (const obs of observed.shards) {
    const done = cluster.status?.quorumRecoveries?.some((r) => r.token === token && r.shard === obs.shard);
    const ctx: ShardContext = {
      clusterName: cluster.metadata.name,
      namespace: cluster.metadata.namespace,
      spec,
      image,
      options,
      obs,
      ...(token !== undefined && token !== '' && done !== true ? { quorumRecoveryToken: token } : {}),
    };
    const step = planShard(ctx, now);
    if (step === undefined) continue;
    if (step.action.type === 'Wait') {
      // Shards are independent: one waiting shard must not hold back the others.
      firstWait ??= step;
      continue;
    }
    if (spec.paused && step.action.type !== 'SetInitialClusterState') {
      return toPlan(
        {
          ...step,
          message: `paused: would ${describe(step)}`,
          action: { type: 'Wait', reason: 'Paused', requeueAfterSeconds: options.resyncSeconds },
        },
        previous,
        now,
        options,
      );
    }
    return toPlan(step, previous, now, options);
  }
  // Membership first: slots move only when no shard has a membership step to take.
  const { step: reshard, underWay } = nextReshardStep(observed, previous, options) ?? {};
  if (reshard !== undefined && reshard.action.type !== 'Wait') {
    // A batch under way holds its slots' writes: it is finished even while paused; no new one starts.
    if (spec.paused && underWay !== true) {
      return toPlan(
        {
          ...reshard,
          message: `paused between batches: would ${reshard.message}`,
          action: { type: 'Wait', reason: 'Paused', requeueAfterSeconds: options.resyncSeconds },
        },
        previous,
        now,
        options,
      );
    }
    return toPlan(reshard, previous, now, options);
  }
  const waiting = firstWait ?? reshard;
  if (waiting !== undefined) return toPlan(waiting, previous, now, options);
  return { action: { type: 'Done', requeueAfterSeconds: options.healthProbeSeconds }, operation: undefined };
}

/** One shard's next step, or undefined when it is as wanted. The first concern with a step to take wins. */
function planShard(ctx: ShardContext, now: Date): Step | undefined {
  const sts = ctx.obs.statefulSet;
  if (sts === undefined) return undefined; // handled by ApplyChildren above
  if (ctx.obs.raft.kind === 'unreachable') return waitForMemberList(ctx, sts, ctx.obs.raft.reason);
  // Only when the user asked for it, and only when the reachable voters cannot form a quorum any more.
  const forced = recoverQuorumLoss(ctx, ctx.quorumRecoveryToken);
  if (forced !== undefined) return forced;
  const view = viewShard(ctx, sts, ctx.obs.raft);
  if (view.leader === undefined) return waitForLeader(view);
  return (
    // A shard still being founded does nothing else until its founders have formed it.
    finishBootstrap(view) ??
    // A member's old id goes before it may come back as a fresh learner.
    removeStaleId(view) ??
    wipeRemovedMember(view) ??
    // A member whose volume's node is gone never comes back as itself: replaced after the configured delay.
    replaceLostMember(view, now) ??
    // Membership changes: learners in, then members beyond spec.replicas out, one member at a time.
    promoteLearner(view) ??
    addLearner(view) ??
    deleteScaledAwayVolume(view) ??
    removeSurplusMember(view) ??
    // What follows needs every wanted member up and caught up: never disturb a shard that is already degraded.
    waitForWantedMembers(view) ??
    startNextPod(view) ??
    // Versions: a downgrade sets the format back first; an upgrade raises it once every member runs the new release.
    lowerDataFormat(view) ??
    rollOut(view) ??
    raiseDataFormat(view)
  );
}

function describe(step: Step): string {
  return `${step.step}${step.member !== undefined ? ` ${step.member}` : ''}`;
}

/** Keep startedAt while the same step of the same operation goes on; flag a step that has overrun its timeout. */
function toPlan(
  step: Step,
  previous: Operation | undefined,
  now: Date,
  options: PlannerOptions,
): Omit<Plan, 'version'> {
  const same =
    previous !== undefined &&
    previous.type === step.type &&
    previous.step.replace(/^Stalled:/, '') === step.step &&
    previous.shard === step.shard &&
    previous.member === step.member &&
    previous.slotMove?.epoch === step.slotMove?.epoch;
  const startedAt = same ? previous.startedAt : now.toISOString();
  const ageSeconds = (now.getTime() - Date.parse(startedAt)) / 1000;
  const stalled = step.action.type === 'Wait' && ageSeconds > options.stepTimeoutSeconds;
  const operation: Operation = {
    type: step.type,
    step: stalled ? `Stalled:${step.step}` : step.step,
    message: stalled ? `stalled for ${Math.round(ageSeconds)}s: ${step.message}` : step.message,
    startedAt,
    shard: step.shard,
    ...(step.member !== undefined ? { member: step.member } : {}),
    ...(step.memberId !== undefined ? { memberId: step.memberId } : {}),
    ...(step.slotMove !== undefined ? { slotMove: step.slotMove } : {}),
    ...(step.targetShards !== undefined ? { targetShards: step.targetShards } : {}),
  };
  return { action: step.action, operation };
}
