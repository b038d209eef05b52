// The Services: a headless one that gives each member its stable DNS name, the client entry point (any member of any
// shard: members route every key to its shard), and one per shard (what members route to; debugging).
import type { V1Service } from '@kubernetes/client-node';
import type { RaftCluster } from '../api/raftcluster.js';
import {
  CLIENT_PORT,
  PEER_PORT,
  clientServiceName,
  peerServiceName,
  selectorLabels,
  shardLabels,
  shardServiceName,
} from './names.js';
import { childMeta } from './owner.js';

export function buildPeerService(cluster: RaftCluster): V1Service {
  const labels = selectorLabels(cluster.metadata.name);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, peerServiceName(cluster.metadata.name), labels),
    spec: {
      clusterIP: 'None',
      // Members must resolve each other before they are Ready: a member is Ready only once it is part of a quorum,
      // and no quorum can form while peers' DNS names do not resolve.
      publishNotReadyAddresses: true,
      selector: labels,
      ports: [
        { name: 'peer', port: PEER_PORT, targetPort: 'peer' },
        { name: 'client', port: CLIENT_PORT, targetPort: 'client' },
      ],
    },
  };
}

export function buildClientService(cluster: RaftCluster): V1Service {
  const labels = selectorLabels(cluster.metadata.name);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, clientServiceName(cluster.metadata.name), labels),
    spec: {
      type: cluster.spec.service.type,
      selector: labels,
      ports: [{ name: 'client', port: CLIENT_PORT, targetPort: 'client' }],
    },
  };
}

export function buildShardService(cluster: RaftCluster, shard: number): V1Service {
  const labels = shardLabels(cluster.metadata.name, shard);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(cluster, shardServiceName(cluster.metadata.name, shard), labels),
    spec: {
      selector: labels,
      ports: [{ name: 'client', port: CLIENT_PORT, targetPort: 'client' }],
    },
  };
}
