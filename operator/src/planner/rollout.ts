// Rolling out a new image: the StatefulSets use OnDelete, so a pod runs the new template only once the planner
// deletes it. Followers first (highest ordinal first), the leader last after handing leadership over, one pod at a
// time, and only while the others keep a quorum.
import type { ObservedPod } from '../model/observed.js';
import { quorum } from '../health/health.js';
import { handOverLeadership } from './handover.js';
import type { ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/** Restart the next pod not on the desired image; undefined once every pod is. */
export function rollOutImage(view: ShardView): Step | undefined {
  const { shard, pods, byName, podByName, voters, healthyVoters, raft, image } = view;
  const outdated = pods.filter((p) => p.image !== image);
  if (outdated.length === 0) return undefined;
  const doing = `upgrading to ${image} (${pods.length - outdated.length}/${pods.length} done)`;
  const followers = outdated
    .filter((p) => byName.get(p.name)?.id !== raft.leaderId)
    .sort((a, b) => b.ordinal - a.ordinal);
  const pod: ObservedPod = followers[0] ?? outdated[0]!;
  const m = byName.get(pod.name)!;
  if (m.id === raft.leaderId && voters.length > 1) {
    return handOverLeadership(view, {
      type: 'Upgrade',
      doing,
      leader: m,
      // Only a member already on the new image may take over: else leadership would move once more.
      candidates: voters.filter((v) => v.id !== m.id && podByName.get(v.name)?.image === image),
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
      view,
      'Upgrade',
      'DeletePod',
      `${doing}: restarting ${pod.name} would lose quorum`,
      pod.name,
    );
  return {
    type: 'Upgrade',
    step: 'DeletePod',
    message: `${doing}: restarting ${pod.name}${note}`,
    shard,
    member: pod.name,
    memberId: m.id,
    action: { type: 'DeletePod', shard, name: pod.name },
  };
}
