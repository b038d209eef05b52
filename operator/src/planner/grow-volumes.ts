// Growing the members' volumes to a larger storage.size (it never shrinks: admission refuses that). Two halves, both
// non-disruptive, so they go ahead even while paused and restart no pod:
//   1. every claim of the shard asks for the new size (the StorageClass must allow expansion; the API server refuses
//      a larger request otherwise, so the operator does not try and says why in the VolumesResized condition);
//   2. the StatefulSet, whose volumeClaimTemplates cannot change in place, is deleted leaving its pods running
//      (orphaned) and created again with the new size, so that members added later get it too; it adopts the pods.
// The storage system then grows each volume (and the kubelet its filesystem, online); the condition follows it.
import type { ObservedCluster, ObservedPvc, ObservedShard } from '../model/observed.js';
import { storageBytes } from '../util/storage-bytes.js';
import type { Step } from './step.js';

/** What growing one shard's volumes still needs. */
export type ShardVolumeGrowth =
  /** Everything asks for storage.size: the claims and the StatefulSet's template. */
  | { kind: 'done' }
  /** The volumes cannot grow; `reason` is a condition reason, `message` says why and what to do. */
  | { kind: 'blocked'; reason: 'ExpansionNotAllowed' | 'StorageClassNotFound'; message: string }
  | { kind: 'resizeClaims'; claims: readonly string[] }
  | { kind: 'recreateStatefulSet'; from: string };

/** Claims that a resize can reach: not being deleted, and bound (an unbound claim's request cannot change). */
function resizable(pvc: ObservedPvc): boolean {
  return !pvc.deleting && pvc.capacity !== undefined;
}

function smaller(quantity: string | undefined, wantedBytes: number): boolean {
  if (quantity === undefined) return false;
  const bytes = storageBytes(quantity);
  return bytes !== undefined && bytes < wantedBytes;
}

export function shardVolumeGrowth(observed: ObservedCluster, obs: ObservedShard): ShardVolumeGrowth {
  const size = observed.cluster.spec.storage.size;
  const wanted = storageBytes(size);
  const sts = obs.statefulSet;
  if (wanted === undefined || sts === undefined) return { kind: 'done' };
  const claims = obs.pvcs.filter((p) => resizable(p) && smaller(p.requested, wanted));
  const template = smaller(sts.volumeSize, wanted);
  // Done asking: the storage system grows each volume from here (volumeSummary follows it).
  if (claims.length === 0 && !template) return { kind: 'done' };
  const sc = observed.storageClass;
  if (sc === undefined) {
    const named =
      obs.pvcs.find((p) => p.storageClassName !== undefined)?.storageClassName ??
      observed.cluster.spec.storage.storageClassName;
    return {
      kind: 'blocked',
      reason: 'StorageClassNotFound',
      message:
        `storage.size ${size} cannot be reached: ` +
        (named !== undefined
          ? `StorageClass ${named} was not found`
          : 'the volumes name no StorageClass and the cluster has no default one') +
        ', so whether it allows expansion is unknown',
    };
  }
  if (!sc.allowsExpansion) {
    return {
      kind: 'blocked',
      reason: 'ExpansionNotAllowed',
      message:
        `storage.size ${size} cannot be reached: StorageClass ${sc.name} does not allow volume expansion ` +
        '(allowVolumeExpansion is not true); the volumes keep their size until an administrator allows it',
    };
  }
  if (claims.length > 0) return { kind: 'resizeClaims', claims: claims.map((c) => c.name) };
  return { kind: 'recreateStatefulSet', from: sts.volumeSize ?? '' };
}

/** The next step growing volumes, or undefined when no shard has one to take (done, growing, or blocked). */
export function growVolumes(observed: ObservedCluster): Step | undefined {
  const size = observed.cluster.spec.storage.size;
  for (const obs of observed.shards) {
    if (obs.shard >= observed.cluster.spec.shards) continue; // a retiring shard's volumes go with it
    const growth = shardVolumeGrowth(observed, obs);
    if (growth.kind === 'resizeClaims') {
      return {
        type: 'GrowVolumes',
        step: 'ResizeClaims',
        message: `growing the volumes of shard ${obs.shard} to ${size}: ${growth.claims.join(', ')}`,
        shard: obs.shard,
        action: { type: 'ResizeClaims', shard: obs.shard, size, claims: growth.claims },
      };
    }
    if (growth.kind === 'recreateStatefulSet') {
      return {
        type: 'GrowVolumes',
        step: 'RecreateStatefulSet',
        message:
          `re-creating the StatefulSet of shard ${obs.shard} with ${size} volumes (was ${growth.from}); ` +
          'its pods keep running and are adopted',
        shard: obs.shard,
        action: { type: 'RecreateStatefulSet', shard: obs.shard },
      };
    }
  }
  return undefined;
}

/** The VolumesResized condition's facts over the shards the spec asks for. */
export interface VolumeSummary {
  size: string;
  blocked: { reason: string; message: string } | undefined;
  /** Volumes not yet at storage.size, as "name: capacity (condition)". */
  pending: string[];
  total: number;
}

export function volumeSummary(observed: ObservedCluster): VolumeSummary {
  const { spec } = observed.cluster;
  let blocked: VolumeSummary['blocked'];
  const pending: string[] = [];
  let total = 0;
  const wanted = storageBytes(spec.storage.size);
  for (const obs of observed.shards) {
    if (obs.shard >= spec.shards) continue;
    const live = obs.pvcs.filter((p) => !p.deleting);
    total += live.length;
    const growth = shardVolumeGrowth(observed, obs);
    if (growth.kind === 'blocked') blocked ??= { reason: growth.reason, message: growth.message };
    if (wanted === undefined) continue;
    for (const p of live) {
      if (p.capacity !== undefined && !smaller(p.capacity, wanted)) continue;
      if (p.capacity === undefined && !smaller(p.requested, wanted)) continue; // not bound yet, asks for enough
      pending.push(
        `${p.name}: ${p.capacity ?? 'unbound'}${p.resizeCondition !== undefined ? ` (${p.resizeCondition})` : ''}`,
      );
    }
  }
  return { size: spec.storage.size, blocked, pending, total };
}
