// Conditions in the CloudNativePG style: for each condition type a chain of small pure policies, the first that
// applies decides (status, reason, message). lastTransitionTime moves only when the status flips.
import type { Condition, Health, Operation } from '../api/raftcluster.js';
import type { VolumeSummary } from '../planner/grow-volumes.js';
import type { VersionVerdict } from '../planner/version-policy.js';

export type ConditionStatus = Condition['status'];

export interface PolicyResult {
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** What the policies look at. */
export interface ConditionInput {
  health: Health;
  healthMessage: string;
  operation: Operation | undefined;
  paused: boolean;
  /** spec.shards: a Reshard operation toward another count is an earlier reshard finishing its batch. */
  shards: number;
  warnings: string[];
  /** Member pods that cannot start, each as "pod: Reason: detail" (image pull, unschedulable, crash loop...). */
  podProblems: string[];
  /** Why the step this reconcile took failed (an apply the API server refused, say); undefined when it did not. */
  stepFailure: string | undefined;
  /** The members' volumes against storage.size. */
  volumes: VolumeSummary;
  /** The version policy's judgement of spec.version against what the members run. */
  version: VersionVerdict;
}

export type Policy = (input: ConditionInput) => PolicyResult | undefined;

export const CONDITION_TYPES = [
  'Available',
  'Progressing',
  'Degraded',
  'VolumesResized',
  'VersionAccepted',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

/** Available: every shard has a quorum (clients can read and write). */
export const availablePolicies: Policy[] = [
  (i) =>
    i.health === 'unknown'
      ? { status: 'Unknown', reason: 'MembersUnreachable', message: i.healthMessage }
      : undefined,
  (i) =>
    i.health === 'unhealthy'
      ? { status: 'False', reason: 'QuorumLost', message: i.healthMessage }
      : undefined,
  (i) => ({ status: 'True', reason: 'QuorumAvailable', message: withWarnings(i.healthMessage, i.warnings) }),
];

/** Progressing: the operator is carrying out an operation (False when stalled, paused, or nothing to do). */
export const progressingPolicies: Policy[] = [
  // What blocks progress comes first, within the reconcile that met it: a refused step, then pods that cannot start.
  (i) =>
    i.stepFailure !== undefined
      ? {
          status: 'False',
          reason: 'StepFailing',
          message: `${i.operation?.step ?? 'the step'} failed and is retried with backoff: ${i.stepFailure}`,
        }
      : undefined,
  (i) =>
    i.podProblems.length > 0
      ? {
          status: 'False',
          reason: 'MemberPodsFailing',
          message:
            `${i.podProblems.length} member pod(s) cannot start: ${i.podProblems.slice(0, 3).join('; ')}` +
            (i.podProblems.length > 3 ? '; …' : ''),
        }
      : undefined,
  (i) =>
    i.operation?.step.startsWith('Stalled:') === true
      ? { status: 'False', reason: 'StepStalled', message: i.operation.message }
      : undefined,
  (i) =>
    i.paused
      ? {
          status: 'False',
          reason: 'Paused',
          message: i.operation?.message ?? 'spec.paused is true: no disruptive action is taken',
        }
      : undefined,
  (i) =>
    i.operation?.type === 'Reshard' &&
    i.operation.targetShards !== undefined &&
    i.operation.targetShards !== i.shards
      ? { status: 'True', reason: 'ReshardQueued', message: i.operation.message }
      : undefined,
  (i) =>
    i.operation !== undefined
      ? { status: 'True', reason: i.operation.type, message: i.operation.message }
      : undefined,
  // Not converged: the spec names a version the operator refuses to roll out (VersionAccepted says why).
  (i) =>
    !i.version.accepted
      ? { status: 'False', reason: i.version.reason, message: i.version.message }
      : undefined,
  () => ({ status: 'False', reason: 'Converged', message: 'the cluster matches its spec' }),
];

/** Degraded: fewer voters up than configured (or we cannot tell). */
export const degradedPolicies: Policy[] = [
  (i) =>
    i.health === 'unknown'
      ? { status: 'Unknown', reason: 'MembersUnreachable', message: i.healthMessage }
      : undefined,
  (i) =>
    i.health === 'unhealthy' ? { status: 'True', reason: 'QuorumLost', message: i.healthMessage } : undefined,
  (i) =>
    i.health === 'degraded' ? { status: 'True', reason: 'MembersDown', message: i.healthMessage } : undefined,
  (i) => ({ status: 'False', reason: 'AllMembersHealthy', message: i.healthMessage }),
];

/** VolumesResized: every member volume has storage.size (False while one grows, or when none can). */
export const volumesResizedPolicies: Policy[] = [
  (i) =>
    i.volumes.blocked !== undefined
      ? { status: 'False', reason: i.volumes.blocked.reason, message: i.volumes.blocked.message }
      : undefined,
  (i) =>
    i.volumes.pending.length > 0
      ? {
          status: 'False',
          reason: 'Resizing',
          message:
            `${i.volumes.total - i.volumes.pending.length} of ${i.volumes.total} volume(s) at ${i.volumes.size}; ` +
            `growing: ${i.volumes.pending.slice(0, 3).join('; ')}${i.volumes.pending.length > 3 ? '; …' : ''}`,
        }
      : undefined,
  (i) => ({
    status: 'True',
    reason: 'VolumesAtSize',
    message: `every member volume (${i.volumes.total}) has storage.size ${i.volumes.size}`,
  }),
];

/**
 * VersionAccepted: spec.version may roll out (True: running, upgrading, downgrading), or it is refused (False: it
 * skips a minor version, or it cannot read the data format the members write and no annotation accepts that).
 */
export const versionAcceptedPolicies: Policy[] = [
  (i) => ({
    status: i.version.accepted ? 'True' : 'False',
    reason: i.version.reason,
    message: i.version.message,
  }),
];

function withWarnings(message: string, warnings: string[]): string {
  return warnings.length === 0 ? message : `${message}; warning: ${warnings.join('; ')}`;
}

/** The first policy in the chain that applies. Each chain ends with an unconditional policy. */
export function evaluate(policies: Policy[], input: ConditionInput): PolicyResult {
  for (const p of policies) {
    const r = p(input);
    if (r !== undefined) return r;
  }
  throw new Error('condition policy chain has no fallback');
}

/** Set one condition: keep lastTransitionTime unless the status flipped. */
export function setCondition(
  previous: Condition[] | undefined,
  type: string,
  result: PolicyResult,
  observedGeneration: number,
  now: Date,
): Condition {
  const old = previous?.find((c) => c.type === type);
  return {
    type,
    status: result.status,
    reason: result.reason,
    message: result.message,
    observedGeneration,
    lastTransitionTime:
      old !== undefined && old.status === result.status ? old.lastTransitionTime : now.toISOString(),
  };
}

export function computeConditions(
  previous: Condition[] | undefined,
  input: ConditionInput,
  observedGeneration: number,
  now: Date,
): Condition[] {
  return [
    setCondition(previous, 'Available', evaluate(availablePolicies, input), observedGeneration, now),
    setCondition(previous, 'Progressing', evaluate(progressingPolicies, input), observedGeneration, now),
    setCondition(previous, 'Degraded', evaluate(degradedPolicies, input), observedGeneration, now),
    setCondition(
      previous,
      'VolumesResized',
      evaluate(volumesResizedPolicies, input),
      observedGeneration,
      now,
    ),
    setCondition(
      previous,
      'VersionAccepted',
      evaluate(versionAcceptedPolicies, input),
      observedGeneration,
      now,
    ),
  ];
}
