// The planner: a pure function from the observed state to the next action. Level-based: it derives the step from
// what it sees (StatefulSets, pods, PVCs, the Raft member list, the pods' own identities), so replaying it after a
// crash between any two steps picks up where the cluster is, not where a log says it was. The previous status's
// operation is read only to keep its startedAt (step timeouts) stable across reconciles.
import { desiredImage, type Operation } from '../api/raftcluster.js';
import { planReshard } from './reshard.js';
import { clientAddress, peerAddress, podName } from '../children/names.js';
import { quorum } from '../health/health.js';
import type { Plan } from './action.js';
import type { ObservedCluster, ObservedPod, RaftMember } from '../model/observed.js';
import { DEFAULT_PLANNER_OPTIONS, type PlannerOptions } from './options.js';
import {
  caughtUp,
  lag,
  memberOrdinal,
  podNameOf,
  safeToRemove,
  viewShard,
  type ShardContext,
} from './shard-view.js';
import { waitStep, type Step } from './step.js';
import { handOverLeadership } from './handover.js';

// The planner's entry point: callers import plan and its options from here.
export { DEFAULT_PLANNER_OPTIONS, type PlannerOptions } from './options.js';

export function plan(
  observed: ObservedCluster,
  now: Date,
  options: PlannerOptions = DEFAULT_PLANNER_OPTIONS,
): Plan {
  const { cluster } = observed;
  const spec = cluster.spec;
  const image = desiredImage(spec);
  const previous = cluster.status?.operation;

  // Children first: creating them or changing their templates never restarts a pod (OnDelete), so it is allowed
  // even while paused and before anything else.
  // Shards beyond spec.shards are being retired (their slots move off first): not re-applied, but still planned for.
  const wanted = observed.shards.filter((s) => s.shard < spec.shards);
  const missingShards = wanted.filter((s) => s.statefulSet === undefined).map((s) => s.shard);
  const missing = missingShards.length;
  const stale = wanted.some((s) => s.statefulSet !== undefined && s.statefulSet.image !== image);
  if (!observed.childrenExist || missing > 0 || stale || wanted.length !== spec.shards) {
    const creating = missing === spec.shards;
    // New groups beyond the ones that exist: a reshard grows the cluster (they start with no slots).
    const growing = !creating && missing > 0 && missingShards.every((k) => k >= spec.shards - missing);
    return toPlan(
      {
        type: creating ? 'Bootstrap' : stale ? 'Upgrade' : growing ? 'Reshard' : 'Recover',
        step: 'ApplyChildren',
        message: creating
          ? `creating ${spec.shards} shard(s) of ${spec.replicas} member(s)`
          : stale
            ? `rolling out ${image}: updating the pod templates`
            : growing
              ? `resharding to ${spec.shards} shards: creating shard(s) ${missingShards.join(', ')} (they start with no slots)`
              : 'restoring missing child objects',
        shard: 0,
        action: { type: 'ApplyChildren' },
      },
      previous,
      now,
      options,
    );
  }

  let firstWait: Step | undefined;
  for (const obs of observed.shards) {
    const ctx: ShardContext = {
      clusterName: cluster.metadata.name,
      namespace: cluster.metadata.namespace,
      spec,
      image,
      options,
      obs,
    };
    const step = planShard(ctx);
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
  const { step: reshard, underWay } = reshardStep(observed, previous, options) ?? {};
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
  return { action: { type: 'Done', requeueAfterSeconds: options.resyncSeconds }, operation: undefined };
}

/** The reshard's next step as a planner Step, and whether it continues a batch already under way. */
function reshardStep(
  observed: ObservedCluster,
  previous: Operation | undefined,
  options: PlannerOptions,
): { step: Step; underWay: boolean } | undefined {
  const target = observed.cluster.spec.shards;
  const step = planReshard(observed.shards, target, previous?.slotMove, options.reshardBatchSlots);
  if (step === undefined) return undefined;
  switch (step.kind) {
    case 'wait':
      return {
        underWay: false,
        step: {
          type: 'Reshard',
          step: step.step,
          message: step.message,
          shard: 0,
          action: { type: 'Wait', reason: step.message, requeueAfterSeconds: options.pollSeconds },
        },
      };
    case 'retire':
      return {
        underWay: false,
        step: {
          type: 'Reshard',
          step: 'RetireShard',
          message: `resharding to ${target} shards: shard ${step.shard} owns no slot any more; deleting its objects`,
          shard: step.shard,
          action: { type: 'RetireShard', shard: step.shard },
        },
      };
    case 'move': {
      const m = step.move;
      const count = m.lastSlot - m.firstSlot + 1;
      return {
        underWay: step.resumed,
        step: {
          type: 'Reshard',
          step: 'MoveSlots',
          message:
            `resharding to ${target} shards: ${step.resumed ? 'resuming' : 'moving'} slots ${m.firstSlot}-${m.lastSlot} ` +
            `(${count}) from shard ${m.from} to shard ${m.to} at epoch ${m.epoch}; ${step.slotsToMove} slot(s) to move in all`,
          shard: m.from,
          slotMove: m,
          action: { type: 'MoveSlots', move: m },
        },
      };
    }
  }
}

function describe(step: Step): string {
  return `${step.step}${step.member !== undefined ? ` ${step.member}` : ''}`;
}

/** Keep startedAt while the same step of the same operation goes on; flag a step that has overrun its timeout. */
function toPlan(step: Step, previous: Operation | undefined, now: Date, options: PlannerOptions): Plan {
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
  };
  return { action: step.action, operation };
}

function planShard(ctx: ShardContext): Step | undefined {
  const { obs, spec, clusterName } = ctx;
  const sts = obs.statefulSet;
  if (sts === undefined) return undefined; // handled by ApplyChildren above
  const shard = obs.shard;
  const desired = spec.replicas;

  if (obs.raft.kind === 'unreachable') {
    // Without a member list nothing disruptive is safe: we could not tell who is a member.
    return sts.initialClusterState === 'new'
      ? waitStep(
          ctx,
          'Bootstrap',
          'WaitFounders',
          `shard ${shard}: waiting for the founders to elect a leader (${obs.raft.reason})`,
        )
      : waitStep(ctx, 'Recover', 'WaitQuorum', `shard ${shard}: no member answered (${obs.raft.reason})`);
  }
  const view = viewShard(ctx, sts, obs.raft);
  const { raft, members, byName, memberIds: ids, voters, healthyVoters, leader, pods, podByName } = view;
  const ord = (name: string): number | undefined => memberOrdinal(view, name);

  if (leader === undefined) {
    return sts.initialClusterState === 'new'
      ? waitStep(
          ctx,
          'Bootstrap',
          'WaitFounders',
          `shard ${shard}: waiting for the founders to elect a leader`,
        )
      : waitStep(
          ctx,
          'Recover',
          'WaitQuorum',
          `shard ${shard}: no leader (${healthyVoters}/${voters.length} voters up)`,
        );
  }

  // 1. Bootstrap: once every founder is a healthy voter, new pods must join, never found a second cluster (a founder
  //    whose volume was lost would otherwise start a fresh one-member cluster under the same name).
  if (sts.initialClusterState === 'new') {
    const founders = Array.from({ length: sts.replicas }, (_, i) => byName.get(podNameOf(ctx, i)));
    // A founder that started after the others had formed the shard finds it existing and joins under a new id: it
    // will never be the founder voter the others list, so waiting for that would never end. Bootstrap is over;
    // fencing below replaces its founder id with the new incarnation.
    const lateFounder = pods.find((p) => {
      const m = byName.get(p.name);
      return (
        p.ordinal < sts.replicas && m !== undefined && p.identity !== undefined && p.identity.id !== m.id
      );
    });
    if (
      lateFounder !== undefined ||
      founders.every((m) => m !== undefined && m.role === 'voter' && m.healthy)
    ) {
      return {
        type: 'Bootstrap',
        step: 'SwitchToExisting',
        message:
          lateFounder !== undefined
            ? `shard ${shard}: founder ${lateFounder.name} started after the others formed the cluster and joined as a new member; new pods will join as learners`
            : `shard ${shard}: ${sts.replicas} founder(s) formed the cluster; new pods will join as learners`,
        shard,
        action: { type: 'SetInitialClusterState', shard, state: 'existing' },
      };
    }
    return waitStep(
      ctx,
      'Bootstrap',
      'WaitFounders',
      `shard ${shard}: ${healthyVoters}/${sts.replicas} founders up`,
    );
  }

  // 2. Fencing: a pod that reports a different identity than the member list holds under its name lost its data
  //    directory (or is a new incarnation). Its old id must go before it may come back as a fresh learner.
  for (const pod of pods) {
    const m = byName.get(pod.name);
    if (m === undefined || pod.identity === undefined || pod.deleting) continue;
    if (pod.identity.id === m.id && pod.identity.incarnation === m.incarnation) continue;
    const message = `member ${pod.name} restarted as id ${pod.identity.id} (incarnation ${pod.identity.incarnation}); removing its old id ${m.id}`;
    if (m.id === raft.leaderId) continue; // the leader is live under its recorded id; the report is stale
    if (!safeToRemove(view, m))
      return waitStep(
        ctx,
        'Fence',
        'RemoveStaleId',
        `${message}: not safe while quorum depends on it`,
        pod.name,
      );
    return {
      type: 'Fence',
      step: 'RemoveStaleId',
      message,
      shard,
      member: pod.name,
      memberId: m.id,
      action: { type: 'RemoveMember', shard, id: m.id },
    };
  }

  // 3. A pod carrying the data of a member that was removed (a retained volume, or a member removed by hand) must
  //    never rejoin as its old self: wipe its volume so it starts fresh, then it is added as a new learner.
  for (const pod of pods) {
    const o = pod.ordinal;
    if (pod.identity === undefined || !pod.identity.joined || ids.has(pod.identity.id)) continue;
    if (o >= desired || o >= sts.replicas) continue; // a member being scaled away; the scale-down handles it
    const pvc = obs.pvcs.find((p) => p.ordinal === o);
    if (pvc !== undefined && !pvc.deleting) {
      return {
        type: 'Fence',
        step: 'WipeVolume',
        message: `${pod.name} holds the data of removed member ${pod.identity.id}; deleting its volume so it rejoins fresh`,
        shard,
        member: pod.name,
        memberId: pod.identity.id,
        action: { type: 'DeletePVC', shard, name: pvc.name },
      };
    }
    if (!pod.deleting) {
      return {
        type: 'Fence',
        step: 'RestartPod',
        message: `${pod.name}: restarting on a fresh volume`,
        shard,
        member: pod.name,
        action: { type: 'DeletePod', shard, name: pod.name },
      };
    }
    return waitStep(
      ctx,
      'Fence',
      'RestartPod',
      `${pod.name}: waiting for the pod to restart on a fresh volume`,
      pod.name,
    );
  }

  const from = voters.length;

  // 4. Learners: promote when caught up; one learner at a time.
  const learners = members.filter((m) => m.role === 'learner');
  for (const l of learners) {
    const o = ord(l.name);
    if (o === undefined || o >= desired) continue; // to be removed by the scale-down
    if (caughtUp(view, l)) {
      return {
        type: 'ScaleUp',
        step: 'PromoteLearner',
        message: `scaling ${from}→${desired}: promoting ${l.name} to voter`,
        shard,
        member: l.name,
        memberId: l.id,
        action: { type: 'PromoteLearner', shard, id: l.id },
      };
    }
    const pct =
      raft.lastIndex === 0
        ? 100
        : Math.floor((100 * Math.min(l.matchIndex, raft.lastIndex)) / raft.lastIndex);
    return waitStep(
      ctx,
      'ScaleUp',
      'CatchUp',
      `scaling ${from}→${desired}: member ${l.name} added as learner, ${pct}% caught up`,
      l.name,
    );
  }

  // 5. Pods in range that are not members yet: add them as learners once they answer with their identity.
  for (const pod of pods) {
    if (pod.ordinal >= desired || pod.ordinal >= sts.replicas || byName.has(pod.name)) continue;
    if (pod.deleting || pod.phase !== 'Running' || pod.identity === undefined) {
      return waitStep(
        ctx,
        'ScaleUp',
        'WaitPod',
        `scaling ${from}→${desired}: waiting for pod ${pod.name} to start`,
        pod.name,
      );
    }
    return {
      type: 'ScaleUp',
      step: 'AddLearner',
      message: `scaling ${from}→${desired}: adding ${pod.name} as learner`,
      shard,
      member: pod.name,
      memberId: pod.identity.id,
      action: {
        type: 'AddLearner',
        shard,
        name: pod.name,
        id: pod.identity.id,
        peerAddress: peerAddress(clusterName, ctx.namespace, pod.name),
        clientAddress: clientAddress(clusterName, ctx.namespace, pod.name),
      },
    };
  }

  // 6. Volumes of members scaled away, per the retention policy.
  if (spec.pvcRetention.whenScaled === 'Delete') {
    for (const pvc of obs.pvcs) {
      if (pvc.deleting || pvc.ordinal < desired || pvc.ordinal < sts.replicas) continue;
      const holder = pods.find((p) => p.ordinal === pvc.ordinal);
      if (holder !== undefined) {
        return waitStep(
          ctx,
          'ScaleDown',
          'DeletePVC',
          `waiting for pod ${holder.name} to stop before deleting volume ${pvc.name}`,
          holder.name,
        );
      }
      return {
        type: 'ScaleDown',
        step: 'DeletePVC',
        message: `deleting volume ${pvc.name} of a removed member (pvcRetention.whenScaled=Delete)`,
        shard,
        member: podName(clusterName, shard, pvc.ordinal),
        action: { type: 'DeletePVC', shard, name: pvc.name },
      };
    }
  }

  // 7. Scale down, one member at a time, highest ordinal first: leadership away, remove from Raft, then the pod.
  const surplus = members
    .map((m) => ({ m, o: ord(m.name) }))
    .filter((x): x is { m: RaftMember; o: number } => x.o !== undefined && x.o >= desired)
    .sort((a, b) => b.o - a.o);
  const target = surplus[0]?.m;
  // The pod on the highest ordinal goes right after its member was removed, before the next removal: one member
  // is fully gone (Raft, pod, then volume) before the next one is touched.
  const top = podNameOf(ctx, sts.replicas - 1);
  if (sts.replicas > desired && !byName.has(top)) {
    return {
      type: 'ScaleDown',
      step: 'ScaleStatefulSet',
      message: `scaling ${sts.replicas}→${desired}: stopping pod ${top}`,
      shard,
      member: top,
      action: { type: 'ScaleStatefulSet', shard, replicas: sts.replicas - 1 },
    };
  }
  if (target !== undefined) {
    const msg = `scaling ${from}→${desired}`;
    if (target.id === raft.leaderId) {
      return handOverLeadership(view, {
        type: 'ScaleDown',
        doing: msg,
        leader: target,
        // Only a member that stays may take over.
        candidates: voters.filter((v) => v.id !== target.id && (ord(v.name) ?? desired) < desired),
        candidatesAre: 'healthy',
      });
    }
    if (!safeToRemove(view, target)) {
      return waitStep(
        ctx,
        'ScaleDown',
        'RemoveMember',
        `${msg}: removing ${target.name} now would lose quorum`,
        target.name,
      );
    }
    return {
      type: 'ScaleDown',
      step: 'RemoveMember',
      message: `${msg}: removing member ${target.name}`,
      shard,
      member: target.name,
      memberId: target.id,
      action: { type: 'RemoveMember', shard, id: target.id },
    };
  }

  // Everything below needs every wanted member up and caught up: never disturb a cluster that is already degraded.
  const wanted = Array.from({ length: sts.replicas }, (_, i) => podNameOf(ctx, i));
  for (const name of wanted) {
    const m = byName.get(name);
    const pod = podByName.get(name);
    if (
      m === undefined ||
      pod === undefined ||
      !m.healthy ||
      lag(view, m) > ctx.options.learnerLagMax ||
      pod.deleting
    ) {
      return waitStep(
        ctx,
        'Recover',
        'WaitMember',
        `shard ${shard}: waiting for member ${name} to be back and caught up`,
        name,
      );
    }
  }

  // 8. Scale up: one member at a time.
  if (sts.replicas < desired) {
    const next = podNameOf(ctx, sts.replicas);
    return {
      type: 'ScaleUp',
      step: 'ScaleStatefulSet',
      message: `scaling ${from}→${desired}: starting pod ${next}`,
      shard,
      member: next,
      action: { type: 'ScaleStatefulSet', shard, replicas: sts.replicas + 1 },
    };
  }

  // 9. Rolling upgrade: followers first (highest ordinal first), the leader last after handing leadership over.
  const outdated = pods.filter((p) => p.image !== ctx.image);
  if (outdated.length > 0) {
    const msg = `upgrading to ${ctx.image} (${pods.length - outdated.length}/${pods.length} done)`;
    const followers = outdated
      .filter((p) => byName.get(p.name)?.id !== raft.leaderId)
      .sort((a, b) => b.ordinal - a.ordinal);
    const pod: ObservedPod = followers[0] ?? outdated[0]!;
    const m = byName.get(pod.name)!;
    if (m.id === raft.leaderId && voters.length > 1) {
      return handOverLeadership(view, {
        type: 'Upgrade',
        doing: msg,
        leader: m,
        // Only a member already on the new image may take over: else leadership would move once more.
        candidates: voters.filter((v) => v.id !== m.id && podByName.get(v.name)?.image === ctx.image),
        candidatesAre: 'upgraded',
      });
    }
    // A restart takes the member down for a while: only if the others still form a quorum. One or two voters cannot
    // (quorum is all of them), so their upgrade is a brief outage by necessity and the message says so.
    const quorate = m.role === 'learner' || healthyVoters - 1 >= quorum(voters.length);
    const note = quorate
      ? ''
      : ` (${voters.length} voter(s) cannot keep quorum during a restart: brief outage)`;
    if (!quorate && voters.length >= 3)
      return waitStep(
        ctx,
        'Upgrade',
        'DeletePod',
        `${msg}: restarting ${pod.name} would lose quorum`,
        pod.name,
      );
    return {
      type: 'Upgrade',
      step: 'DeletePod',
      message: `${msg}: restarting ${pod.name}${note}`,
      shard,
      member: pod.name,
      memberId: m.id,
      action: { type: 'DeletePod', shard, name: pod.name },
    };
  }
  return undefined;
}
