// Children first: creating them or changing their templates never restarts a pod (OnDelete), so it is allowed even
// while paused and before anything else. Shards beyond spec.shards are being retired (their slots move off first):
// not re-applied, but still planned for.
import { childrenSpecHash } from '../children/spec-hash.js';
import type { ObservedCluster } from '../model/observed.js';
import type { Step } from './step.js';

/**
 * Apply the child objects when one is missing or a StatefulSet was applied from another spec (its image, or its
 * children hash: resources, scheduling, Raft timing, the Service type...); undefined when all are right.
 */
export function applyChildren(observed: ObservedCluster, image: string): Step | undefined {
  const spec = observed.cluster.spec;
  const wanted = observed.shards.filter((s) => s.shard < spec.shards);
  const missingShards = wanted.filter((s) => s.statefulSet === undefined).map((s) => s.shard);
  const missing = missingShards.length;
  const newImage = wanted.some((s) => s.statefulSet !== undefined && s.statefulSet.image !== image);
  const hash = childrenSpecHash(spec);
  const stale =
    newImage || wanted.some((s) => s.statefulSet !== undefined && s.statefulSet.childrenHash !== hash);
  if (observed.childrenExist && missing === 0 && !stale && wanted.length === spec.shards) return undefined;
  const creating = missing === spec.shards;
  // New groups beyond the ones that exist: a reshard grows the cluster (they start with no slots).
  const growing = !creating && missing > 0 && missingShards.every((k) => k >= spec.shards - missing);
  return {
    type: creating ? 'Bootstrap' : newImage ? 'Upgrade' : stale ? 'Rollout' : growing ? 'Reshard' : 'Recover',
    step: 'ApplyChildren',
    message: creating
      ? `creating ${spec.shards} shard(s) of ${spec.replicas} member(s)`
      : newImage
        ? `rolling out ${image}: updating the pod templates`
        : stale
          ? 'applying a spec change: updating the pod templates and Services (no pod restarts yet)'
          : growing
            ? `resharding to ${spec.shards} shards: creating shard(s) ${missingShards.join(', ')} (they start with no slots)`
            : 'restoring missing child objects',
    shard: 0,
    ...(growing ? { targetShards: spec.shards } : {}),
    action: { type: 'ApplyChildren' },
  };
}
