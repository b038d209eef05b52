// Expectations (controller-runtime/ReplicaSet style): after the operator deletes a pod or changes a StatefulSet, the
// informer cache shows it a moment later. Planning from a cache that does not show our own last write yet could take
// a second disruptive step on a stale picture (e.g. restart the next member while the cache still shows the previous
// one running). So each executed Kubernetes write leaves an expectation; the next reconcile waits (briefly, bounded)
// until the cache shows it. Admin API changes need none: the observer reads them live.
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { ExecRequest } from '../executor/requests.js';
import { mapStatefulSet, type ClusterObjects } from '../observer/map.js';

export interface Expectation {
  /** For logs: what the cache has not shown yet. */
  what: string;
  satisfied(objects: ClusterObjects): boolean;
}

function gone(
  list: readonly { metadata?: { uid?: string; deletionTimestamp?: unknown } }[],
  uid: string | undefined,
): boolean {
  if (uid === undefined) return true;
  const o = list.find((x) => x.metadata?.uid === uid);
  return o === undefined || o.metadata?.deletionTimestamp != null;
}

/** What the cache must show after `requests` were carried out; undefined when nothing. */
export function expectationFor(requests: readonly ExecRequest[]): Expectation | undefined {
  const parts: Expectation[] = [];
  for (const r of requests) {
    if (r.kind === 'delete') {
      const list = (o: ClusterObjects): ClusterObjects['pods'] | ClusterObjects['pvcs'] =>
        r.resource === 'pods' ? o.pods : o.pvcs;
      parts.push({ what: `${r.resource} ${r.name} deleting`, satisfied: (o) => gone(list(o), r.uid) });
    } else if (r.kind === 'apply' && r.object.kind === 'StatefulSet') {
      const want = mapStatefulSet(r.object as V1StatefulSet);
      const name = r.object.metadata?.name;
      parts.push({
        what: `StatefulSet ${name} at replicas=${want.replicas}, ${want.initialClusterState}, ${want.image}`,
        satisfied: (o) => {
          const sts = o.statefulSets.find((s) => s.metadata?.name === name);
          if (sts === undefined) return false;
          const seen = mapStatefulSet(sts);
          return (
            seen.replicas === want.replicas &&
            seen.image === want.image &&
            seen.initialClusterState === want.initialClusterState
          );
        },
      });
    }
  }
  if (parts.length === 0) return undefined;
  return { what: parts.map((p) => p.what).join(', '), satisfied: (o) => parts.every((p) => p.satisfied(o)) };
}
