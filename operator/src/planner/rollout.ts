// Rolling out a spec change to the members: a new image (an upgrade) or any other field that shapes a member pod
// (resources, scheduling, Raft timing, pod labels and annotations: children/spec-hash.ts). The StatefulSets use
// OnDelete, so a pod runs the new template only once the planner deletes it. Followers first (highest ordinal
// first), the leader last after handing leadership over, one pod at a time, only while the others keep a quorum,
// and the next pod only once every member is back and caught up (the planner's waitForWantedMembers comes first).
import type { ObservedPod } from '../model/observed.js';
import { memberSpecHash } from '../children/spec-hash.js';
import { quorum } from '../health/health.js';
import { handOverLeadership } from './handover.js';
import type { ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/**
 * Whether `pod` runs what the spec asks for. A pod carries the hash of the member fields it was created from; a pod
 * from before pods carried one is judged by its image alone, so a new operator restarts nothing by itself.
 */
export function podIsCurrent(pod: ObservedPod, image: string, memberHash: string): boolean {
  return pod.memberHash === undefined ? pod.image === image : pod.memberHash === memberHash;
}

/** Restart the next pod not on the desired spec; undefined once every pod is. */
export function rollOut(view: ShardView): Step | undefined {
  const { shard, pods, byName, podByName, voters, healthyVoters, raft, image, spec } = view;
  const hash = memberSpecHash(spec);
  const outdated = pods.filter((p) => !podIsCurrent(p, image, hash));
  if (outdated.length === 0) return undefined;
  // An image change is an upgrade; anything else is a rollout of the member spec.
  const upgrade = outdated.some((p) => p.image !== image);
  const type = upgrade ? 'Upgrade' : 'Rollout';
  const progress = `${pods.length - outdated.length}/${pods.length} done`;
  const doing = upgrade
    ? `upgrading to ${image} (${progress})`
    : `rolling out a member spec change (${progress})`;
  const followers = outdated
    .filter((p) => byName.get(p.name)?.id !== raft.leaderId)
    .sort((a, b) => b.ordinal - a.ordinal);
  const pod: ObservedPod = followers[0] ?? outdated[0]!;
  const m = byName.get(pod.name)!;
  if (m.id === raft.leaderId && voters.length > 1) {
    const current = (name: string): boolean => {
      const p = podByName.get(name);
      return p !== undefined && podIsCurrent(p, image, hash);
    };
    return handOverLeadership(view, {
      type,
      doing,
      leader: m,
      // Only a member already on the new spec may take over: else leadership would move once more.
      candidates: voters.filter((v) => v.id !== m.id && current(v.name)),
      candidatesAre: upgrade ? 'upgraded' : 'updated',
    });
  }
  // A restart takes the member down for a while: only if the others still form a quorum. One or two voters cannot
  // (quorum is all of them), so their restart is a brief outage by necessity and the message says so.
  const quorate = m.role === 'learner' || healthyVoters - 1 >= quorum(voters.length);
  const note = quorate
    ? ''
    : ` (${voters.length} voter(s) cannot keep quorum during a restart: brief outage)`;
  if (!quorate && voters.length >= 3)
    return waitStep(view, type, 'DeletePod', `${doing}: restarting ${pod.name} would lose quorum`, pod.name);
  return {
    type,
    step: 'DeletePod',
    message: `${doing}: restarting ${pod.name}${note}`,
    shard,
    member: pod.name,
    memberId: m.id,
    action: { type: 'DeletePod', shard, name: pod.name },
  };
}
