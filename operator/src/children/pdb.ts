// One PodDisruptionBudget per shard: voluntary evictions (node drains) take at most one member of a shard at a
// time, so a drain never costs a 3-member shard its quorum.
import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { RaftCluster } from '../api/raftcluster.js';
import { shardLabels, statefulSetName } from './names.js';
import { childMeta } from './owner.js';

export function buildPodDisruptionBudget(cluster: RaftCluster, shard: number): V1PodDisruptionBudget {
  const labels = shardLabels(cluster.metadata.name, shard);
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(cluster, statefulSetName(cluster.metadata.name, shard), labels),
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  };
}
