// How the planner paces itself. A file of its own so that every part of the planner can read the options without
// importing plan.ts, which imports every part.

export interface PlannerOptions {
  /** Hash slots per resharding batch: writes to a batch's slots pause while it is copied. */
  reshardBatchSlots: number;
  /** A learner is promoted once it is at most this many entries behind the leader. */
  learnerLagMax: number;
  /** A step that has not completed after this long is reported as stalled (and keeps being retried). */
  stepTimeoutSeconds: number;
  /** Requeue while waiting for something to happen. */
  pollSeconds: number;
  /** Requeue when nothing is to be done: a periodic health probe. */
  resyncSeconds: number;
}

export const DEFAULT_PLANNER_OPTIONS: PlannerOptions = {
  reshardBatchSlots: 256,
  learnerLagMax: 100,
  stepTimeoutSeconds: 600,
  pollSeconds: 5,
  resyncSeconds: 30,
};
