// The request side of ForceNewCluster: what a member does once the admin service found nothing to refuse. The
// replica is stopped first, so the log cannot move under the decision; the plan is dry-run on what this member has
// persisted (its MemoryStorage holds exactly that), so a request the restart would refuse is refused now instead of
// leaving a member that cannot start; the log and hard state are synced (a commit-only Ready is written without
// fsync), so the restart reads back what this answer reports; only then is the marker written.
// The replica is stopped in every outcome: the caller must restart the process whatever happens here.
import type { MemoryStorage } from '../raft/memory-storage.js';
import type { HardState, NodeId, RaftStatus } from '../raft/types.js';
import type { RaftDiskStorage } from '../storage/raft-disk-storage.js';
import { ForceNewClusterError, planForceNewCluster } from './force-new-cluster.js';
import { writeForceNewClusterMarker, type ForceNewClusterMarker } from './force-new-cluster-marker.js';

export interface ForceNewClusterRequestDeps {
  readonly replica: { readonly id: NodeId; stop(): Promise<void>; status(): RaftStatus };
  /** The replica's stable log: what it has persisted. */
  readonly memory: MemoryStorage;
  readonly storage: RaftDiskStorage;
  readonly now: () => number;
}

/** Stops the replica, checks again that no leader is known, and durably records the request. */
export async function prepareForceNewCluster(
  deps: ForceNewClusterRequestDeps,
): Promise<ForceNewClusterMarker> {
  const { replica, memory, storage } = deps;
  await replica.stop();
  // The admin service checked before; a leader heard from since (the quorum is back) must still win.
  const leader = replica.status().leader;
  if (leader !== '') {
    throw new ForceNewClusterError(
      `a leader (${leader}) was heard from while stopping for the request; the group has a quorum, not forcing a new cluster (the member restarts normally)`,
    );
  }
  const snapshot = memory.snapshot().metadata;
  const lastIndex = memory.lastIndex();
  const entries =
    lastIndex > snapshot.index
      ? memory.entries(snapshot.index + 1, lastIndex + 1, Number.MAX_SAFE_INTEGER)
      : [];
  const stored = memory.initialState().hardState;
  const hardState: HardState = { ...stored, commit: Math.max(stored.commit, snapshot.index) };
  const plan = planForceNewCluster({ snapshot, entries, hardState, self: replica.id });
  await storage.append(stored, [], undefined, { sync: true });
  const marker: ForceNewClusterMarker = {
    requestedAt: new Date(deps.now()).toISOString(),
    commit: plan.commit,
    lastIndex: plan.lastIndex,
    lastLogTerm: plan.lastLogTerm,
  };
  await writeForceNewClusterMarker(storage.dir, marker);
  return marker;
}
