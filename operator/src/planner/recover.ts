// Recovery: the waits of a shard that is not whole. Without a member list or a leader nothing disruptive is safe (we
// could not tell who is a member); with members down or behind, nothing that could cost another one is started.
// Each wait keeps being retried, and is reported as stalled once it overruns the step timeout.
import type { ObservedStatefulSet } from '../model/observed.js';
import { lag, podNameOf, type ShardContext, type ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

/** No member answered. While the shard is still founding, that is its founders not having elected a leader yet. */
export function waitForMemberList(ctx: ShardContext, sts: ObservedStatefulSet, reason: string): Step {
  const shard = ctx.obs.shard;
  return sts.initialClusterState === 'new'
    ? waitStep(
        ctx,
        'Bootstrap',
        'WaitFounders',
        `shard ${shard}: waiting for the founders to elect a leader (${reason})`,
      )
    : waitStep(ctx, 'Recover', 'WaitQuorum', `shard ${shard}: no member answered (${reason})`);
}

/** The member list names no leader. While the shard is still founding, its founders have yet to elect one. */
export function waitForLeader(view: ShardView): Step {
  const { sts, shard } = view;
  return sts.initialClusterState === 'new'
    ? waitStep(
        view,
        'Bootstrap',
        'WaitFounders',
        `shard ${shard}: waiting for the founders to elect a leader`,
      )
    : waitStep(
        view,
        'Recover',
        'WaitQuorum',
        `shard ${shard}: no leader (${view.healthyVoters}/${view.voters.length} voters up)`,
      );
}

/** Scaling up and rolling out need every wanted member up and caught up: never disturb a degraded shard. */
export function waitForWantedMembers(view: ShardView): Step | undefined {
  const { shard, sts, byName, podByName } = view;
  const wanted = Array.from({ length: sts.replicas }, (_, i) => podNameOf(view, i));
  for (const name of wanted) {
    const m = byName.get(name);
    const pod = podByName.get(name);
    if (
      m === undefined ||
      pod === undefined ||
      !m.healthy ||
      lag(view, m) > view.options.learnerLagMax ||
      pod.deleting
    ) {
      return waitStep(
        view,
        'Recover',
        'WaitMember',
        `shard ${shard}: waiting for member ${name} to be back and caught up`,
        name,
      );
    }
  }
  return undefined;
}
