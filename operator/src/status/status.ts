// The whole status from one observation and the plan: pure, so the reconciler writes it only when it changed.
import {
  desiredImage,
  specWarnings,
  type QuorumRecovery,
  type MemberStatus,
  type RaftClusterStatus,
  type ShardStatus,
} from '../api/raftcluster.js';
import { labelSelectorString, selectorLabels } from '../children/names.js';
import { clusterHealth, shardHealth } from '../health/health.js';
import type { Plan } from '../planner/action.js';
import type { ObservedCluster, ObservedShard } from '../model/observed.js';
import { volumeSummary } from '../planner/grow-volumes.js';
import { computeConditions } from './conditions.js';
import { clusterDataFormat, runningVersions } from '../planner/version-policy.js';

function members(obs: ObservedShard): MemberStatus[] {
  if (obs.raft.kind !== 'members') return [];
  const { leaderId, lastIndex } = obs.raft;
  return obs.raft.members.map((m) => {
    const pod = obs.pods.find((p) => p.name === m.name);
    const version = m.version ?? pod?.image.split(':').at(-1);
    return {
      name: m.name,
      id: m.id,
      role: m.role === 'learner' ? 'learner' : m.id === leaderId ? 'leader' : 'follower',
      healthy: m.healthy,
      lag: Math.max(0, lastIndex - m.matchIndex),
      ...(version !== undefined ? { version } : {}),
      incarnation: m.incarnation,
    };
  });
}

/** The quorum-loss recoveries status keeps (the oldest drop out). */
export const QUORUM_RECOVERIES_KEPT = 16;

/**
 * `stepFailure`: why the step this reconcile took failed, if it did. `forced`: what a quorum-loss recovery this
 * reconcile carried out kept (recorded for good: it is also what keeps the same token from acting twice).
 */
export function buildStatus(
  observed: ObservedCluster,
  plan: Plan,
  now: Date,
  stepFailure?: string,
  forced?: QuorumRecovery,
): RaftClusterStatus {
  const { cluster } = observed;
  const previous = cluster.status;
  const reached = observed.shards.some((s) => s.raft.kind === 'members');
  const lastProbeTime = reached ? now.toISOString() : previous?.lastProbeTime;
  const perShard = observed.shards.map((s) => ({ s, h: shardHealth(s.raft, lastProbeTime), m: members(s) }));
  const overall = clusterHealth(perShard.map((x) => x.h));
  const shards: ShardStatus[] = perShard.map(({ s, h, m }) => {
    const leader = m.find((x) => x.role === 'leader')?.name;
    return {
      shard: s.shard,
      health: h.health,
      faultTolerance: h.faultTolerance,
      voters: h.voters,
      readyVoters: h.healthyVoters,
      ...(leader !== undefined ? { leader } : {}),
      members: m,
      ...(s.slots !== undefined ? { slots: s.slots.owned, slotsMoving: s.slots.moving } : {}),
    };
  });
  const healthMessage = perShard.map(({ s, h }) => `shard ${s.shard}: ${h.message}`).join('; ');
  const pods = observed.shards.flatMap((s) => s.pods);
  const image = desiredImage(cluster.spec);
  const allCurrent = pods.length > 0 && pods.every((p) => p.image === image);
  const shard0 = shards.find((s) => s.shard === 0);
  const versions = runningVersions(observed).slice(0, 16);
  const recoveries = [...(previous?.quorumRecoveries ?? []), ...(forced !== undefined ? [forced] : [])].slice(
    -QUORUM_RECOVERIES_KEPT,
  );
  const status: RaftClusterStatus = {
    observedGeneration: cluster.metadata.generation,
    health: overall.health,
    faultTolerance: overall.faultTolerance,
    // Per shard (the smallest), like spec.replicas: /scale compares the two.
    replicas: minOrZero(observed.shards.map((s) => s.pods.filter((p) => !p.deleting).length)),
    readyReplicas: minOrZero(perShard.map((x) => x.h.healthyVoters)),
    selector: labelSelectorString(selectorLabels(cluster.metadata.name)),
    ...(shard0?.leader !== undefined ? { leader: shard0.leader } : {}),
    bootstrapShards: observed.bootstrapShards,
    members: shard0?.members ?? [],
    shards,
    ...(allCurrent ? { currentVersion: cluster.spec.version } : {}),
    ...(versions.length > 0 ? { versions } : {}),
    ...(reached
      ? { dataFormat: clusterDataFormat(observed) }
      : previous?.dataFormat !== undefined
        ? { dataFormat: previous.dataFormat }
        : {}),
    ...(plan.operation !== undefined ? { operation: plan.operation } : {}),
    ...(lastProbeTime !== undefined ? { lastProbeTime } : {}),
    ...(recoveries.length > 0 ? { quorumRecoveries: recoveries } : {}),
    conditions: computeConditions(
      previous?.conditions,
      {
        health: overall.health,
        healthMessage,
        operation: plan.operation,
        paused: cluster.spec.paused,
        shards: cluster.spec.shards,
        warnings: specWarnings(cluster.spec),
        podProblems: pods.flatMap((p) =>
          p.problem !== undefined && !p.deleting ? [`${p.name}: ${p.problem}`] : [],
        ),
        stepFailure: stepFailure === undefined ? undefined : truncate(stepFailure, 600),
        volumes: volumeSummary(observed),
        version: plan.version,
      },
      cluster.metadata.generation,
      now,
    ),
  };
  return status;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function minOrZero(xs: number[]): number {
  return xs.length === 0 ? 0 : Math.min(...xs);
}

/** How stale lastProbeTime may get before it alone is worth a status write. */
export const PROBE_TIME_REFRESH_SECONDS = 60;

/**
 * Whether the new status must be written. lastProbeTime alone changes on every probe; writing it each time would
 * turn every reconcile into an API write, so it counts only once it is older than PROBE_TIME_REFRESH_SECONDS.
 */
export function statusChanged(old: RaftClusterStatus | undefined, next: RaftClusterStatus): boolean {
  if (old === undefined) return true;
  const { lastProbeTime: oldProbe, ...oldRest } = old;
  const { lastProbeTime: newProbe, ...newRest } = next;
  if (!deepEqual(oldRest, newRest)) return true;
  if (oldProbe === newProbe) return false;
  if (oldProbe === undefined || newProbe === undefined) return true;
  return Date.parse(newProbe) - Date.parse(oldProbe) >= PROBE_TIME_REFRESH_SECONDS * 1000;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
