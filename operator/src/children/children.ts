// Every owned object of a cluster, in apply order (the ServiceAccount and Services before the pods that use them).
import type {
  V1PodDisruptionBudget,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { RaftCluster } from '../api/raftcluster.js';
import { buildPodDisruptionBudget } from './pdb.js';
import { buildServiceAccount } from './serviceaccount.js';
import { buildClientService, buildPeerService, buildShardService } from './services.js';
import { buildStatefulSet, type ShardChildState } from './statefulset.js';

export type Child = V1ServiceAccount | V1Service | V1PodDisruptionBudget | V1StatefulSet;

/**
 * `shards` carries what the planner owns per shard (replicas, initial cluster state, founders); pass
 * `initialShardState` for shards whose StatefulSet does not exist yet.
 */
export function buildChildren(cluster: RaftCluster, shards: ShardChildState[]): Child[] {
  return [
    buildServiceAccount(cluster),
    buildPeerService(cluster),
    buildClientService(cluster),
    ...shards.map((s) => buildShardService(cluster, s.shard)),
    ...shards.map((s) => buildPodDisruptionBudget(cluster, s.shard)),
    ...shards.map((s) => buildStatefulSet(cluster, s)),
  ];
}

/** A shard being created: all founders at once, founding a new group that starts from `bootstrapShards`' layout. */
export function initialShardState(
  cluster: RaftCluster,
  shard: number,
  bootstrapShards: number,
): ShardChildState {
  return {
    shard,
    replicas: cluster.spec.replicas,
    initialClusterState: 'new',
    founders: cluster.spec.replicas,
    bootstrapShards,
  };
}
