// What every part of the planner proposes: a step, before plan.ts turns it into a Plan (keeping startedAt, flagging
// a stalled step). It names the operation the step belongs to, for status.operation, and the action to take.
import type { OperationType, SlotMove } from '../api/raftcluster.js';
import type { Action } from './action.js';
import type { ShardContext } from './shard-view.js';

export interface Step {
  type: OperationType;
  step: string;
  message: string;
  shard: number;
  member?: string;
  memberId?: string;
  slotMove?: SlotMove;
  /** For Reshard steps: the shard count this step works toward. */
  targetShards?: number;
  action: Action;
}

/** Wait, polling, for something to happen in this shard; the message says what, and is the wait's reason. */
export function waitStep(
  ctx: ShardContext,
  type: OperationType,
  stepName: string,
  message: string,
  member?: string,
): Step {
  return {
    type,
    step: stepName,
    message,
    shard: ctx.obs.shard,
    ...(member !== undefined ? { member } : {}),
    action: { type: 'Wait', reason: message, requeueAfterSeconds: ctx.options.pollSeconds },
  };
}
