// Metadata every owned object carries: the controller owner reference (garbage collection when the RaftCluster is
// deleted, and the informer mapping back to it) and our labels.
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, type RaftCluster } from '../api/raftcluster.js';

export function ownerReference(cluster: RaftCluster): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: cluster.metadata.name,
    uid: cluster.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function childMeta(cluster: RaftCluster, name: string, labels: Record<string, string>): V1ObjectMeta {
  return { name, namespace: cluster.metadata.namespace, labels, ownerReferences: [ownerReference(cluster)] };
}
