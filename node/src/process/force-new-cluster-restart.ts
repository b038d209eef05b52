// The start side of ForceNewCluster: a restarting member whose data directory holds the marker rewrites its recovered
// log before the Raft core is built from it. Order matters for crashes: the new log and hard state are made durable
// first, and only then is the marker deleted. A crash in between finds the marker again and plans on the rewritten
// log, which needs nothing more (see force-new-cluster.ts), so the step is idempotent.
import type { Logger } from '../observability/logger.js';
import { NO_NODE, type HardState, type NodeId, type SnapshotMetadata } from '../raft/types.js';
import type { RaftDiskStorage, RecoveredState } from '../storage/raft-disk-storage.js';
import {
  ForceNewClusterError,
  planForceNewCluster,
  type ForceNewClusterInput,
  type ForceNewClusterPlan,
} from './force-new-cluster.js';
import {
  FORCE_NEW_CLUSTER_MARKER,
  removeForceNewClusterMarker,
  type ForceNewClusterMarker,
} from './force-new-cluster-marker.js';
import type { StartMode } from './start-mode.js';

/**
 * Why a member must not start at all with the marker in its data directory, or undefined. Only a restart has a log
 * to keep: a fresh directory would found or join a group with nothing in it, and the marker's promise is broken.
 */
export function forceNewClusterStartRefusal(mode: StartMode, markerPath: string): string | undefined {
  if (mode === 'restart') return undefined;
  return `${markerPath} asks to keep this member's data as a new cluster, but the data directory holds no log: there is nothing to keep; delete the marker to start as a ${mode === 'bootstrap' ? 'founding' : 'new'} member`;
}

const NO_SNAPSHOT: SnapshotMetadata = { index: 0, term: 0, confState: { voters: [], learners: [] } };

export interface ForceNewClusterRestart {
  readonly storage: RaftDiskStorage;
  readonly recovered: RecoveredState;
  readonly marker: ForceNewClusterMarker;
  readonly self: NodeId;
  readonly logger: Logger;
}

/** Rewrites the log as the marker asked, durably, deletes the marker; returns the state to build the core from. */
export async function forceNewClusterOnRestart(args: ForceNewClusterRestart): Promise<RecoveredState> {
  const { storage, recovered, marker, self, logger } = args;
  const snapshot = recovered.snapshot?.metadata ?? NO_SNAPSHOT;
  const hardState: HardState = recovered.hardState ?? {
    term: snapshot.term,
    vote: NO_NODE,
    commit: snapshot.index,
  };
  const plan = planOrExplain(storage.dir, { snapshot, entries: recovered.entries, hardState, self });
  if (plan.walEntries.length > 0 || plan.rewriteSnapshotMarker) {
    if (plan.rewriteSnapshotMarker && !recovered.snapshot) {
      throw new ForceNewClusterError(
        `cannot force a new cluster from ${storage.dir}: no snapshot to restart the log after`,
      );
    }
    // Always synced, whatever --fsync says: the marker is deleted next, and this is the only record of the change.
    await storage.append(
      plan.hardState,
      plan.walEntries,
      plan.rewriteSnapshotMarker ? recovered.snapshot : undefined,
      { sync: true },
    );
  }
  await removeForceNewClusterMarker(storage.dir);
  logger.warn(
    {
      commit: plan.commit,
      lastIndexBefore: plan.lastIndex,
      lastLogTermBefore: plan.lastLogTerm,
      discarded: plan.discarded,
      removed: plan.removed,
      newCommit: plan.hardState.commit,
      requestedAt: marker.requestedAt,
      answeredCommit: marker.commit,
    },
    `forcing a new cluster: kept the log up to commit index ${plan.commit}, discarded ${plan.discarded} uncommitted entries (last index was ${plan.lastIndex}), removed ${plan.removed.length === 0 ? 'no member' : plan.removed.join(', ')}; this member is now the only voter`,
  );
  return {
    ...(recovered.snapshot ? { snapshot: recovered.snapshot } : {}),
    hardState: plan.hardState,
    entries: plan.entries,
  };
}

function planOrExplain(dir: string, input: ForceNewClusterInput): ForceNewClusterPlan {
  try {
    return planForceNewCluster(input);
  } catch (err) {
    if (!(err instanceof ForceNewClusterError)) throw err;
    throw new ForceNewClusterError(
      `cannot force a new cluster from ${dir}: ${err.message}; delete ${FORCE_NEW_CLUSTER_MARKER} there to start normally`,
    );
  }
}
