// Small pure readiness policies over the Raft core's status, each returning one named check with a message a
// human can act on. The host picks the checks it wants for /readyz and combines them with readinessOf; keeping
// them pure makes each rule testable on its own (CloudNativePG-style policy chain).

import { NO_NODE, type RaftStatus } from '../raft/types.js';
import type { Readiness, ReadinessCheck } from '../../shared/http/http-server.js';

/** A member that knows no leader cannot serve linearizable reads or accept writes. */
export function hasLeaderCheck(status: RaftStatus): ReadinessCheck {
  return status.leader === NO_NODE
    ? { name: 'has-leader', ok: false, message: `no leader known in term ${status.term}` }
    : { name: 'has-leader', ok: true, message: `leader ${status.leader} in term ${status.term}` };
}

/**
 * A member far behind on applying committed entries would serve stale local reads and make linearizable reads
 * wait; it should take no traffic until it catches up (after a restart, or a snapshot install).
 */
export function appliedCaughtUpCheck(status: RaftStatus, maxLagEntries: number): ReadinessCheck {
  if (!Number.isSafeInteger(maxLagEntries) || maxLagEntries < 0) {
    throw new Error(
      `appliedCaughtUpCheck: maxLagEntries must be a non-negative integer, got ${maxLagEntries}`,
    );
  }
  const lag = Math.max(0, status.commit - status.applied);
  const message = `applied ${status.applied} of ${status.commit} committed entries (lag ${lag}, allowed ${maxLagEntries})`;
  return { name: 'applied-caught-up', ok: lag <= maxLagEntries, message };
}

/** etcd's non_learner check: a learner is still catching up and does not count toward quorum. */
export function votingMemberCheck(status: RaftStatus): ReadinessCheck {
  if (status.config.voters.includes(status.id)) {
    return { name: 'voting-member', ok: true, message: `${status.id} is a voter` };
  }
  const what = status.config.learners.includes(status.id)
    ? 'a learner, not yet promoted'
    : 'not in the configuration';
  return { name: 'voting-member', ok: false, message: `${status.id} is ${what}` };
}

/** Ready when every check passes; an empty list is not ready, since it means nothing was verified. */
export function readinessOf(checks: readonly ReadinessCheck[]): Readiness {
  return { ready: checks.length > 0 && checks.every((c) => c.ok), checks };
}
