// Which spec changes reach the members, decided by two hashes of the spec (pure). A member pod carries the hash of
// every field that shapes it (image, resources, scheduling, Raft timing, pod labels and annotations): a pod whose
// hash differs from the spec's is restarted, one at a time, through the same gate as an upgrade. A StatefulSet
// carries the hash of everything the operator renders into the children, the pod fields plus the Service type and
// volume retention: one that differs is applied again, which restarts nothing (OnDelete).
//
// Hashes of the spec rather than of rendered objects: a rendered template also holds per-shard values that change
// on their own (the initial cluster state flips from "new" to "existing" once a shard is founded) and must not
// restart anything. Left out on purpose: replicas and shards (scaling and resharding have their own steps), paused,
// storage (volumeClaimTemplates cannot change in place; growing volumes is its own step).
import { createHash } from 'node:crypto';
import { desiredImage, type RaftClusterSpec } from '../api/raftcluster.js';

/** On a member pod (and the StatefulSet's pod template): the member hash the pod was created from. */
export const MEMBER_HASH_ANNOTATION = 'raftstore.dev/member-hash';
/** On a StatefulSet: the children hash it was applied with. */
export const CHILDREN_HASH_ANNOTATION = 'raftstore.dev/children-hash';

/** JSON with object keys sorted at every level, so equal values give equal text whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function hash(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 16);
}

/** The fields that shape a member pod. */
export function memberSpecHash(spec: RaftClusterSpec): string {
  return hash({
    image: desiredImage(spec),
    resources: spec.resources,
    affinity: spec.affinity,
    tolerations: spec.tolerations,
    topologySpreadConstraints: spec.topologySpreadConstraints,
    nodeSelector: spec.nodeSelector,
    raft: spec.raft,
    podTemplate: spec.podTemplate,
  });
}

/** Everything rendered into the children: the member fields, the Service type, the volumes' retention. */
export function childrenSpecHash(spec: RaftClusterSpec): string {
  return hash({
    member: memberSpecHash(spec),
    serviceType: spec.service.type,
    whenDeleted: spec.pvcRetention.whenDeleted,
  });
}
