// Replacing a member that can never come back as itself: its pod cannot be scheduled because its volume is pinned to
// a node that no longer exists (a local volume whose machine is gone). After spec.recovery.replaceUnschedulableAfter
// the member is fenced (its Raft id removed, only while the others keep a quorum), its claim and pod are deleted,
// and the StatefulSet re-creates the pod on a fresh volume; the scale-up steps then add it as a new learner and
// promote it once caught up. A pod that is merely unschedulable (no room, a taint) is never replaced: its data is
// still there, and waiting costs nothing but the redundancy the health already reports.
import { durationMs } from '../util/duration.js';
import type { ObservedPod } from '../model/observed.js';
import { safeToRemove, type ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

export function replaceLostMember(view: ShardView, now: Date): Step | undefined {
  const { shard, pods, byName, spec } = view;
  const afterMs = durationMs(spec.recovery.replaceUnschedulableAfter);
  if (afterMs === undefined) return undefined; // admission refuses such a spec; never act on one
  for (const pod of pods) {
    if (pod.volumeNodeGone === undefined) continue;
    const lost = `${pod.name} cannot be scheduled: its volume is on node ${pod.volumeNodeGone}, which is gone`;
    const waitedMs = now.getTime() - Date.parse(pod.unschedulableSince ?? now.toISOString());
    if (waitedMs < afterMs) {
      const leftSeconds = Math.ceil((afterMs - waitedMs) / 1000);
      return waitStep(
        view,
        'Recover',
        'WaitBeforeReplacing',
        `${lost}; replacing it in ${leftSeconds}s (spec.recovery.replaceUnschedulableAfter ` +
          `${spec.recovery.replaceUnschedulableAfter})`,
        pod.name,
      );
    }
    const m = byName.get(pod.name);
    if (m !== undefined) {
      if (m.id === view.raft.leaderId) continue; // a leader is up somewhere: this report is stale
      if (!safeToRemove(view, m)) {
        return waitStep(
          view,
          'Recover',
          'RemoveLostMember',
          `${lost}; removing it from Raft now would cost the shard its quorum, so it waits`,
          pod.name,
        );
      }
      return {
        type: 'Recover',
        step: 'RemoveLostMember',
        message: `${lost}; removing member ${m.id} from Raft before giving it a fresh volume`,
        shard,
        member: pod.name,
        memberId: m.id,
        action: { type: 'RemoveMember', shard, id: m.id },
      };
    }
    return freshVolume(view, pod, lost);
  }
  return undefined;
}

/** Out of Raft already: the claim goes, then the pod, so the StatefulSet re-creates both afresh. */
function freshVolume(view: ShardView, pod: ObservedPod, lost: string): Step {
  const { shard, obs } = view;
  const pvc = obs.pvcs.find((p) => p.ordinal === pod.ordinal);
  if (pvc !== undefined && !pvc.deleting) {
    return {
      type: 'Recover',
      step: 'DeleteLostVolume',
      message: `${lost}; deleting its volume claim so that it starts on a fresh one`,
      shard,
      member: pod.name,
      action: { type: 'DeletePVC', shard, name: pvc.name },
    };
  }
  if (!pod.deleting) {
    return {
      type: 'Recover',
      step: 'RecreatePod',
      message: `${lost}; re-creating the pod on a fresh volume`,
      shard,
      member: pod.name,
      action: { type: 'DeletePod', shard, name: pod.name },
    };
  }
  return waitStep(view, 'Recover', 'RecreatePod', `${lost}; waiting for its pod to go`, pod.name);
}
