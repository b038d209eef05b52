// Handing leadership over before the leader is taken down, whether a scale-down removes it or a rollout restarts
// it: the shard then changes leader by a transfer to a caught-up voter, not by an election after its leader vanished.
import type { OperationType } from '../api/raftcluster.js';
import type { RaftMember } from '../model/observed.js';
import type { ShardContext } from './shard-view.js';
import { waitStep, type Step } from './step.js';

export interface Handover {
  type: OperationType;
  /** What the operation is doing (`scaling 3→2`, say): the step's message starts with it. */
  doing: string;
  leader: RaftMember;
  /** Who may take over; the healthy voter most up to date among them does. */
  candidates: readonly RaftMember[];
  /** The word for a candidate in the message when none can take over: 'healthy', 'upgraded'. */
  candidatesAre: string;
}

export function handOverLeadership(ctx: ShardContext, handover: Handover): Step {
  const { type, doing, leader } = handover;
  const to = bestSuccessor(handover.candidates);
  if (to === undefined)
    return waitStep(
      ctx,
      type,
      'TransferLeadership',
      `${doing}: no ${handover.candidatesAre} member to take over from leader ${leader.name}`,
      leader.name,
    );
  const shard = ctx.obs.shard;
  return {
    type,
    step: 'TransferLeadership',
    message: `${doing}: moving leadership from ${leader.name} to ${to.name}`,
    shard,
    member: leader.name,
    memberId: leader.id,
    action: { type: 'TransferLeadership', shard, fromId: leader.id, toId: to.id },
  };
}

/** The healthy voter most up to date (lowest name on a tie, for determinism). */
function bestSuccessor(candidates: readonly RaftMember[]): RaftMember | undefined {
  return candidates
    .filter((m) => m.healthy && m.role === 'voter')
    .sort((a, b) => b.matchIndex - a.matchIndex || a.name.localeCompare(b.name))[0];
}
