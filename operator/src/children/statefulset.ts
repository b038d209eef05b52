// The StatefulSet of one shard, for server-side apply. The operator, not the StatefulSet controller, decides when
// a pod restarts (OnDelete) and when a volume goes (the planner's retention step).
import type { V1EnvVar, V1StatefulSet, V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { OPTIONS, type InitialClusterState } from '../../../node/shared/config/options.js';
import { desiredImage, type RaftCluster } from '../api/raftcluster.js';
import {
  CLIENT_PORT,
  DATA_VOLUME,
  HTTP_PORT,
  PEER_PORT,
  peerAddress,
  peerServiceName,
  podName,
  shardEndpointsTemplate,
  shardLabels,
  statefulSetName,
} from './names.js';
import { childMeta } from './owner.js';
import { serviceAccountName } from './serviceaccount.js';
import {
  CHILDREN_HASH_ANNOTATION,
  childrenSpecHash,
  MEMBER_HASH_ANNOTATION,
  memberSpecHash,
} from './spec-hash.js';

export const DATA_MOUNT = '/var/lib/raftstore';
/** A subdirectory, because the root of a fresh ext4 volume holds lost+found. */
export const DATA_DIR = `${DATA_MOUNT}/data`;
export const FOUNDERS_ANNOTATION = 'raftstore.dev/founders';
const NON_ROOT_UID = 65532;

export interface ShardChildState {
  shard: number;
  /** Current StatefulSet replicas: the planner owns this number (it grows and shrinks one member at a time). */
  replicas: number;
  initialClusterState: InitialClusterState;
  /** How many members founded the shard; fixed at creation so the template does not change on every scale. */
  founders: number;
  /**
   * Shards the cluster was created with: the slot layout every group starts from (a group created later starts
   * with no slots). Fixed for the cluster's life, whatever spec.shards becomes.
   */
  bootstrapShards: number;
  /**
   * The volume size the StatefulSet was created with: its volumeClaimTemplates cannot change in place, so an
   * existing StatefulSet is applied with its own size (a larger spec.storage.size is the volume-growth step's,
   * which this does not do), never with the spec's, which the API server would refuse and so block every other
   * change. Undefined for a new StatefulSet: the spec's size.
   */
  volumeSize?: string;
}

/** `demo-0=demo-0.demo-peer.ns.svc.cluster.local:2380,...`: the founding members, as --initial-members reads them. */
export function initialMembers(cluster: RaftCluster, shard: number, founders: number): string {
  const { name, namespace } = cluster.metadata;
  return Array.from({ length: founders }, (_, i) => {
    const pod = podName(name, shard, i);
    return `${pod}=${peerAddress(name, namespace, pod)}`;
  }).join(',');
}

function env(cluster: RaftCluster, state: ShardChildState): V1EnvVar[] {
  const { name, namespace } = cluster.metadata;
  const host = `$(POD_NAME).${peerServiceName(name)}.${namespace}.svc.cluster.local`;
  const raft = cluster.spec.raft;
  // Variable names come from the node's option table (node/shared/config/options.ts), so they cannot drift apart:
  // a renamed variable is renamed here too, and a setting the node drops no longer compiles.
  return [
    // First: later values refer to it with $(POD_NAME), which Kubernetes expands only from earlier entries.
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: OPTIONS.name.env, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    // The uid, not the name: a cluster deleted and re-created under the same name must not accept messages from
    // members of its predecessor (e.g. from a retained volume).
    { name: OPTIONS.clusterId.env, value: cluster.metadata.uid },
    { name: OPTIONS.shard.env, value: String(state.shard) },
    // The layout the cluster was created with, not today's spec.shards: a member's first slots must not depend on
    // when its pod was created.
    { name: OPTIONS.bootstrapShards.env, value: String(state.bootstrapShards) },
    { name: OPTIONS.shardEndpoints.env, value: shardEndpointsTemplate(name, namespace) },
    { name: OPTIONS.dataDir.env, value: DATA_DIR },
    { name: OPTIONS.clientListen.env, value: `0.0.0.0:${CLIENT_PORT}` },
    { name: OPTIONS.peerListen.env, value: `0.0.0.0:${PEER_PORT}` },
    { name: OPTIONS.httpListen.env, value: `0.0.0.0:${HTTP_PORT}` },
    { name: OPTIONS.advertiseClient.env, value: `${host}:${CLIENT_PORT}` },
    { name: OPTIONS.advertisePeer.env, value: `${host}:${PEER_PORT}` },
    { name: OPTIONS.initialMembers.env, value: initialMembers(cluster, state.shard, state.founders) },
    { name: OPTIONS.initialClusterState.env, value: state.initialClusterState },
    { name: OPTIONS.tickMs.env, value: String(raft.tickMs) },
    { name: OPTIONS.electionTicks.env, value: String(raft.electionTicks) },
    { name: OPTIONS.heartbeatTicks.env, value: String(raft.heartbeatTicks) },
  ];
}

/** Default: one member per node where the nodes allow it, without making a small cluster unschedulable. */
function defaultSpread(labels: Record<string, string>): V1TopologySpreadConstraint[] {
  return [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: labels },
    },
  ];
}

export function buildStatefulSet(cluster: RaftCluster, state: ShardChildState): V1StatefulSet {
  const { spec } = cluster;
  const name = cluster.metadata.name;
  const labels = shardLabels(name, state.shard);
  const meta = childMeta(cluster, statefulSetName(name, state.shard), labels);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      ...meta,
      annotations: {
        [FOUNDERS_ANNOTATION]: String(state.founders),
        [CHILDREN_HASH_ANNOTATION]: childrenSpecHash(spec),
      },
    },
    spec: {
      replicas: state.replicas,
      serviceName: peerServiceName(name),
      selector: { matchLabels: labels },
      // Parallel: founders must all start together to elect a leader (OrderedReady would wait for demo-0 to be
      // Ready, which it cannot be before a quorum exists). Ordering of joins is the operator's job, not the
      // StatefulSet controller's.
      podManagementPolicy: 'Parallel',
      // OnDelete: a template change restarts nothing; the planner deletes pods one at a time, followers first,
      // only while the shard stays quorate.
      updateStrategy: { type: 'OnDelete' },
      // Scale-down volumes are the planner's (after the Raft removal, per spec.pvcRetention.whenScaled); the
      // StatefulSet controller deleting them at shrink time could race a member that is still in the configuration.
      persistentVolumeClaimRetentionPolicy: {
        whenScaled: 'Retain',
        whenDeleted: spec.pvcRetention.whenDeleted,
      },
      template: {
        metadata: {
          labels: { ...spec.podTemplate?.labels, ...labels },
          // Ours last: a user's annotation of the same name cannot hide a spec change from the rollout.
          annotations: { ...spec.podTemplate?.annotations, [MEMBER_HASH_ANNOTATION]: memberSpecHash(spec) },
        },
        spec: {
          serviceAccountName: serviceAccountName(name),
          automountServiceAccountToken: false,
          // SIGTERM makes the member hand leadership over and drain (--shutdown-grace-ms, 10 s by default); this
          // leaves room for that and for the process to exit. No preStop hook is needed.
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: NON_ROOT_UID,
            runAsGroup: NON_ROOT_UID,
            fsGroup: NON_ROOT_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(spec.affinity !== undefined ? { affinity: spec.affinity } : {}),
          ...(spec.tolerations !== undefined ? { tolerations: spec.tolerations } : {}),
          ...(spec.nodeSelector !== undefined ? { nodeSelector: spec.nodeSelector } : {}),
          topologySpreadConstraints: spec.topologySpreadConstraints ?? defaultSpread(labels),
          containers: [
            {
              name: 'node',
              image: desiredImage(spec),
              env: env(cluster, state),
              ports: [
                { name: 'client', containerPort: CLIENT_PORT },
                { name: 'peer', containerPort: PEER_PORT },
                { name: 'http', containerPort: HTTP_PORT },
              ],
              livenessProbe: {
                httpGet: { path: '/livez', port: 'http' },
                periodSeconds: 10,
                failureThreshold: 6,
              },
              readinessProbe: {
                httpGet: { path: '/readyz', port: 'http' },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              ...(spec.resources !== undefined ? { resources: spec.resources } : {}),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: DATA_VOLUME, mountPath: DATA_MOUNT },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          // The root filesystem is read-only; a small scratch space for anything that insists on /tmp.
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: DATA_VOLUME, labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: state.volumeSize ?? spec.storage.size } },
            ...(spec.storage.storageClassName !== undefined
              ? { storageClassName: spec.storage.storageClassName }
              : {}),
          },
        },
      ],
    },
  };
}
