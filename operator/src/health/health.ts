// Health comes from the Raft view (is each voter in the configuration reachable from the leader?), never from pod
// readiness: a pod can be Ready while its member was removed, and every pod can be Ready while quorum is lost.
import type { Health } from '../api/raftcluster.js';
import type { RaftView } from '../model/observed.js';

export interface ShardHealth {
  health: Health;
  /** How many more voters may fail before quorum is lost (0 when it is already lost or unknown). */
  faultTolerance: number;
  voters: number;
  healthyVoters: number;
  message: string;
}

/** Quorum of n voters. */
export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** f in N = 2f+1 (for even N, the same f as N-1). */
export function maxFailures(voters: number): number {
  return Math.max(0, Math.floor((voters - 1) / 2));
}

/**
 * Pure function of the shard's Raft view. `lastProbeTime` is when the operator last reached a member of this shard;
 * reported in the message so a stale view is visible, and never turned into "healthy".
 */
export function shardHealth(view: RaftView, lastProbeTime: string | undefined): ShardHealth {
  if (view.kind === 'unreachable') {
    const since = lastProbeTime === undefined ? 'never reached' : `last reached at ${lastProbeTime}`;
    return {
      health: 'unknown',
      faultTolerance: 0,
      voters: 0,
      healthyVoters: 0,
      message: `no member answered (${view.reason}); ${since}`,
    };
  }
  const voters = view.members.filter((m) => m.role === 'voter');
  const down = voters.filter((m) => !m.healthy);
  const n = voters.length;
  const f = maxFailures(n);
  const healthyVoters = n - down.length;
  if (n === 0) {
    return { health: 'unknown', faultTolerance: 0, voters: 0, healthyVoters: 0, message: 'no voters listed' };
  }
  // A view without a leader means no quorum (or an election in progress): the data cannot be written.
  if (view.leaderId === undefined || healthyVoters < quorum(n)) {
    return {
      health: 'unhealthy',
      faultTolerance: 0,
      voters: n,
      healthyVoters,
      message: `quorum lost: ${healthyVoters}/${n} voters up, ${quorum(n)} needed${names(down)}`,
    };
  }
  if (down.length === 0) {
    return { health: 'healthy', faultTolerance: f, voters: n, healthyVoters, message: `${n}/${n} voters up` };
  }
  return {
    health: 'degraded',
    faultTolerance: f - down.length,
    voters: n,
    healthyVoters,
    message: `${healthyVoters}/${n} voters up${names(down)}`,
  };
}

function names(down: { name: string }[]): string {
  return down.length === 0 ? '' : `; down: ${down.map((m) => m.name).join(', ')}`;
}

const ORDER: Record<Health, number> = { healthy: 0, degraded: 1, unknown: 2, unhealthy: 3 };

/** The cluster is as healthy as its worst shard; fault tolerance is the smallest. */
export function clusterHealth(shards: ShardHealth[]): { health: Health; faultTolerance: number } {
  if (shards.length === 0) return { health: 'unknown', faultTolerance: 0 };
  let worst: Health = 'healthy';
  for (const s of shards) if (ORDER[s.health] > ORDER[worst]) worst = s.health;
  return { health: worst, faultTolerance: Math.min(...shards.map((s) => s.faultTolerance)) };
}
