// The members' ServiceAccount: the node never calls the Kubernetes API, so it gets no token and no RBAC.
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { RaftCluster } from '../api/raftcluster.js';
import { selectorLabels } from './names.js';
import { childMeta } from './owner.js';

export function serviceAccountName(cluster: string): string {
  return `${cluster}-node`;
}

export function buildServiceAccount(cluster: RaftCluster): V1ServiceAccount {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: childMeta(
      cluster,
      serviceAccountName(cluster.metadata.name),
      selectorLabels(cluster.metadata.name),
    ),
    automountServiceAccountToken: false,
  };
}
