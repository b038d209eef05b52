// Scaling up, one member at a time: a new pod starts, joins as a learner (a non-voter, so a slow or failed join never
// costs the shard its quorum), and is promoted to voter once it has caught up.
import { clientAddress, peerAddress } from '../children/names.js';
import { caughtUp, memberOrdinal, podNameOf, type ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/** Promote a learner once caught up; one learner at a time. */
export function promoteLearner(view: ShardView): Step | undefined {
  const { shard, members, raft } = view;
  const desired = view.spec.replicas;
  const from = view.voters.length;
  const learners = members.filter((m) => m.role === 'learner');
  for (const l of learners) {
    const o = memberOrdinal(view, l.name);
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
      view,
      'ScaleUp',
      'CatchUp',
      `scaling ${from}→${desired}: member ${l.name} added as learner, ${pct}% caught up`,
      l.name,
    );
  }
  return undefined;
}

/** Pods in range that are not members yet: add them as learners once they answer with their identity. */
export function addLearner(view: ShardView): Step | undefined {
  const { shard, sts, pods, byName, clusterName, namespace } = view;
  const desired = view.spec.replicas;
  const from = view.voters.length;
  for (const pod of pods) {
    if (pod.ordinal >= desired || pod.ordinal >= sts.replicas || byName.has(pod.name)) continue;
    if (pod.deleting || pod.phase !== 'Running' || pod.identity === undefined) {
      return waitStep(
        view,
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
        peerAddress: peerAddress(clusterName, namespace, pod.name),
        clientAddress: clientAddress(clusterName, namespace, pod.name),
      },
    };
  }
  return undefined;
}

/** Start the next pod: one member at a time. */
export function startNextPod(view: ShardView): Step | undefined {
  const { shard, sts } = view;
  const desired = view.spec.replicas;
  if (sts.replicas >= desired) return undefined;
  const next = podNameOf(view, sts.replicas);
  return {
    type: 'ScaleUp',
    step: 'ScaleStatefulSet',
    message: `scaling ${view.voters.length}→${desired}: starting pod ${next}`,
    shard,
    member: next,
    action: { type: 'ScaleStatefulSet', shard, replicas: sts.replicas + 1 },
  };
}
