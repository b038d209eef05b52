// The next step the reconciler takes. Each action is idempotent: executing it twice (a crash after acting but
// before the next observation) has the effect of executing it once.
import type { Operation, SlotMove } from '../api/raftcluster.js';
import type { VersionVerdict } from './version-policy.js';

export type Action =
  /** Server-side apply of every child object (creation, or a template change such as a new image). Non-disruptive:
   * the StatefulSets use OnDelete, so no pod restarts until the planner deletes it. */
  | { type: 'ApplyChildren' }
  /** Founders have formed the shard: pods started from now on join as empty members, never found a new cluster. */
  | { type: 'SetInitialClusterState'; shard: number; state: 'existing' }
  | { type: 'ScaleStatefulSet'; shard: number; replicas: number }
  | {
      type: 'AddLearner';
      shard: number;
      name: string;
      id: string;
      peerAddress: string;
      clientAddress: string;
    }
  | { type: 'PromoteLearner'; shard: number; id: string }
  | { type: 'TransferLeadership'; shard: number; fromId: string; toId: string }
  /** Removal is by id, never by name: a name may already belong to a fresh incarnation. */
  | { type: 'RemoveMember'; shard: number; id: string }
  | { type: 'DeletePod'; shard: number; name: string }
  | { type: 'DeletePVC'; shard: number; name: string }
  /** Drive one batch of hash slots from one group to another to the end (resumable at the same epoch). */
  | { type: 'MoveSlots'; move: SlotMove }
  /** A group beyond spec.shards that owns no slot any more: delete its StatefulSet, PDB, Service (and volumes per
   * pvcRetention.whenScaled). */
  | { type: 'RetireShard'; shard: number }
  /** Point slots `shard` gave away at the groups that own them now (routing records only: nothing moves). */
  | {
      type: 'RepointSlots';
      shard: number;
      batches: readonly { owner: number; epoch: number; slots: readonly number[] }[];
    }
  /** Ask for `size` on each named claim (a larger request: the storage system grows the volume). Non-disruptive. */
  | { type: 'ResizeClaims'; shard: number; size: string; claims: readonly string[] }
  /** Delete the shard's StatefulSet leaving its pods (orphan) and create it again with storage.size in its
   * volumeClaimTemplates, which cannot change in place. Non-disruptive: the new StatefulSet adopts the pods. */
  | { type: 'RecreateStatefulSet'; shard: number }
  /** Ask `member` to restart as a one-voter cluster keeping its data (quorum-loss recovery `token`). */
  | { type: 'ForceNewCluster'; shard: number; member: string; token: string }
  /** Set the data format the shard writes (a Raft entry its leader proposes): an upgrade's end, a downgrade's start. */
  | { type: 'SetDataFormat'; shard: number; format: number }
  | { type: 'Wait'; reason: string; requeueAfterSeconds: number }
  | { type: 'Done'; requeueAfterSeconds: number };

export type ActionType = Action['type'];

/** Actions that can lose availability or data if taken at the wrong moment; at most one per cluster per reconcile,
 * and none while spec.paused. */
export const DISRUPTIVE: ReadonlySet<ActionType> = new Set<ActionType>([
  'ScaleStatefulSet',
  'AddLearner',
  'PromoteLearner',
  'TransferLeadership',
  'RemoveMember',
  'DeletePod',
  'DeletePVC',
  'MoveSlots',
  'RetireShard',
  'ForceNewCluster',
  // Raising the format ends the way back to an older release without the allow-downgrade annotation: not while
  // paused, so pausing after an upgrade keeps that way open.
  'SetDataFormat',
]);

/**
 * What the reconciler does: first write `operation` to status.operation (undefined clears it) if it differs from the
 * recorded one, THEN execute `action`. Recording first means that after a crash the status already says what was
 * being attempted; the planner itself never needs it to be right, because it re-derives the step from observation.
 */
export interface Plan {
  action: Action;
  operation: Operation | undefined;
  /** spec.version judged against what the members run; when refused, the steps above plan with what they run. */
  version: VersionVerdict;
}
