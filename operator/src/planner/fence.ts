// Fencing: a member's name may come back carrying other data than the member list holds under it. Such a pod must
// never take part as its old self: its old id goes first, and a pod holding a removed member's data starts afresh.
import { safeToRemove, type ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/**
 * A pod that reports a different identity than the member list holds under its name lost its data directory (or is
 * a new incarnation). Its old id must go before it may come back as a fresh learner.
 */
export function removeStaleId(view: ShardView): Step | undefined {
  const { shard, byName, pods, raft } = view;
  for (const pod of pods) {
    const m = byName.get(pod.name);
    if (m === undefined || pod.identity === undefined || pod.deleting) continue;
    if (pod.identity.id === m.id && pod.identity.incarnation === m.incarnation) continue;
    const message = `member ${pod.name} restarted as id ${pod.identity.id} (incarnation ${pod.identity.incarnation}); removing its old id ${m.id}`;
    if (m.id === raft.leaderId) continue; // the leader is live under its recorded id; the report is stale
    if (!safeToRemove(view, m))
      return waitStep(
        view,
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
  return undefined;
}

/**
 * A pod carrying the data of a member that was removed (a retained volume, or a member removed by hand) must never
 * rejoin as its old self: wipe its volume so it starts fresh, then it is added as a new learner.
 */
export function wipeRemovedMember(view: ShardView): Step | undefined {
  const { shard, sts, pods, memberIds, obs } = view;
  const desired = view.spec.replicas;
  for (const pod of pods) {
    const o = pod.ordinal;
    if (pod.identity === undefined || !pod.identity.joined || memberIds.has(pod.identity.id)) continue;
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
      view,
      'Fence',
      'RestartPod',
      `${pod.name}: waiting for the pod to restart on a fresh volume`,
      pod.name,
    );
  }
  return undefined;
}
