// Scaling down, one member at a time, highest ordinal first: leadership away, remove from Raft, then the pod, then
// (per pvcRetention.whenScaled) its volume. One member is fully gone before the next one is touched.
import { podName } from '../children/names.js';
import type { RaftMember } from '../model/observed.js';
import { handOverLeadership } from './handover.js';
import { memberOrdinal, podNameOf, safeToRemove, type ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/** Volumes of members scaled away, per the retention policy. */
export function deleteScaledAwayVolume(view: ShardView): Step | undefined {
  const { shard, sts, pods, obs, spec, clusterName } = view;
  const desired = spec.replicas;
  if (spec.pvcRetention.whenScaled !== 'Delete') return undefined;
  for (const pvc of obs.pvcs) {
    if (pvc.deleting || pvc.ordinal < desired || pvc.ordinal < sts.replicas) continue;
    const holder = pods.find((p) => p.ordinal === pvc.ordinal);
    if (holder !== undefined) {
      return waitStep(
        view,
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
  return undefined;
}

/** The next step of removing the highest member beyond spec.replicas: its pod, its leadership or its membership. */
export function removeSurplusMember(view: ShardView): Step | undefined {
  const { shard, sts, members, byName, voters, raft } = view;
  const desired = view.spec.replicas;
  const surplus = members
    .map((m) => ({ m, o: memberOrdinal(view, m.name) }))
    .filter((x): x is { m: RaftMember; o: number } => x.o !== undefined && x.o >= desired)
    .sort((a, b) => b.o - a.o);
  const target = surplus[0]?.m;
  // The pod on the highest ordinal goes right after its member was removed, before the next removal: one member
  // is fully gone (Raft, pod, then volume) before the next one is touched.
  const top = podNameOf(view, sts.replicas - 1);
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
  if (target === undefined) return undefined;
  const doing = `scaling ${voters.length}→${desired}`;
  if (target.id === raft.leaderId) {
    return handOverLeadership(view, {
      type: 'ScaleDown',
      doing,
      leader: target,
      // Only a member that stays may take over.
      candidates: voters.filter(
        (v) => v.id !== target.id && (memberOrdinal(view, v.name) ?? desired) < desired,
      ),
      candidatesAre: 'healthy',
    });
  }
  if (!safeToRemove(view, target)) {
    return waitStep(
      view,
      'ScaleDown',
      'RemoveMember',
      `${doing}: removing ${target.name} now would lose quorum`,
      target.name,
    );
  }
  return {
    type: 'ScaleDown',
    step: 'RemoveMember',
    message: `${doing}: removing member ${target.name}`,
    shard,
    member: target.name,
    memberId: target.id,
    action: { type: 'RemoveMember', shard, id: target.id },
  };
}
