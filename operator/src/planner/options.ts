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
  /** Requeue while paused: nothing is done until the spec changes (which wakes the reconcile anyway). */
  resyncSeconds: number;
  /**
   * Requeue when nothing is to be done: the periodic health probe. A fault Kubernetes raises no event for (a
   * partition, a hung process, a node that went silent) shows in the status only at the next probe: the chaos test
   * measured 16-30 s to "degraded" with 30 s here.
   */
  healthProbeSeconds: number;
}

export const DEFAULT_PLANNER_OPTIONS: PlannerOptions = {
  reshardBatchSlots: 256,
  learnerLagMax: 100,
  stepTimeoutSeconds: 600,
  pollSeconds: 5,
  resyncSeconds: 30,
  healthProbeSeconds: 5,
};
