// The observed state: the observer fills it, health judges it, the planner reads it. Shaped so the I/O layer fills it
// straight from informer caches (StatefulSets, Pods, PVCs) and from two admin gRPC calls: the leader's member list
// and each new pod's Status. Types only, importing nothing but the API's, so every side can import it.
import type { RaftCluster } from '../api/raftcluster.js';
import type { SlotRecord } from '../../../node/shared/sharding/move-driver.js';

/** One member in the Raft configuration, as the leader's admin API lists it. */
export interface RaftMember {
  name: string;
  /** Raft id, decimal string (ids are 64-bit; JSON numbers are not). */
  id: string;
  role: 'voter' | 'learner';
  /** Reachable from the leader and responding (the leader's recent-activity view). */
  healthy: boolean;
  /** Highest log index the leader knows this member holds. */
  matchIndex: number;
  /** Bumped each time the member starts on a fresh data directory. */
  incarnation: number;
  version?: string;
}

/** What the operator learnt from a shard's leader, or why it learnt nothing. */
export type RaftView =
  | { kind: 'members'; leaderId: string | undefined; lastIndex: number; members: RaftMember[] }
  | { kind: 'unreachable'; reason: string };

/** A pod's own identity from its Status RPC; absent when the pod did not answer. */
export interface PodIdentity {
  id: string;
  incarnation: number;
  /** True once the data directory holds Raft state (founded, or added and caught a snapshot/entries). */
  joined: boolean;
  /** How up to date its log is, and what it knows to be committed: what quorum-loss recovery chooses by. */
  lastLogTerm?: number;
  lastIndex?: number;
  commit?: number;
  /** The version the member's build reports (undefined when it reported none). */
  version?: string;
  /** The data format its group writes, as it applied it, and the newest its build reads (1 from older members). */
  dataFormat?: number;
  maxDataFormat?: number;
}

export interface ObservedPod {
  name: string;
  ordinal: number;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready: boolean;
  image: string;
  /** The member hash the pod was created from (children/spec-hash.ts); undefined on a pod from before it existed. */
  memberHash?: string;
  deleting: boolean;
  /**
   * Why the pod cannot start, as "Reason: detail" (ErrImagePull, ImagePullBackOff, CrashLoopBackOff, Unschedulable,
   * ...); undefined when nothing is known to stop it.
   */
  problem?: string;
  nodeName?: string;
  identity?: PodIdentity;
  /** When the scheduler last found no node for it (its PodScheduled=False Unschedulable transition). */
  unschedulableSince?: string;
  /**
   * The node its volume is bound to, when that node no longer exists (a local volume whose machine is gone): the
   * pod can never run again with this volume. Looked up only for unschedulable pods.
   */
  volumeNodeGone?: string;
}

export interface ObservedPvc {
  name: string;
  ordinal: number;
  deleting: boolean;
  /** spec.resources.requests.storage, as written (what the volume is asked to be). */
  requested?: string;
  /** status.capacity.storage: what the volume is now; undefined until it is bound. */
  capacity?: string;
  /** The StorageClass it was provisioned from; undefined when none is named. */
  storageClassName?: string;
  /** A resize that is stuck or pending on the node, as "Type: message" (Resizing, FileSystemResizePending, ...). */
  resizeCondition?: string;
}

/** What the StorageClass of the cluster's volumes allows. */
export interface ObservedStorageClass {
  name: string;
  /** allowVolumeExpansion: the API server refuses a larger request on its claims otherwise. */
  allowsExpansion: boolean;
}

export interface ObservedStatefulSet {
  replicas: number;
  image: string;
  /** The children hash it was applied with; undefined when applied by an operator from before it existed. */
  childrenHash?: string;
  initialClusterState: 'new' | 'existing';
  /** The volume size in its volumeClaimTemplates: fixed at creation (the template cannot change in place). */
  volumeSize?: string;
}

export interface ObservedShard {
  shard: number;
  /** Undefined when the shard's StatefulSet does not exist yet. */
  statefulSet: ObservedStatefulSet | undefined;
  pods: ObservedPod[];
  pvcs: ObservedPvc[];
  raft: RaftView;
  /** The shard's hash slots as its leader reports them; undefined when no leader answered. */
  slots: ShardSlots | undefined;
  /** The group's record of every slot (index = slot), read from its leader; undefined when that read failed. */
  slotTable: SlotTable | undefined;
}

/** One group's record of all 4096 slots: what resharding plans from. */
export interface SlotTable {
  /** The highest move epoch the group has seen. */
  epoch: number;
  records: readonly SlotRecord[];
}

export interface ShardSlots {
  owned: number;
  moving: number;
  epoch: number;
}

export interface ObservedCluster {
  cluster: RaftCluster;
  /** Services, PDB and ServiceAccount all exist (the StatefulSets are tracked per shard). */
  childrenExist: boolean;
  /** Shards the cluster was created with (its first slot layout), as its StatefulSets record it. */
  bootstrapShards: number;
  shards: ObservedShard[];
  /**
   * The StorageClass of the volumes (named by the claims, else by storage.storageClassName, else the cluster's
   * default); undefined when it cannot be found, or when the StorageClasses are not known.
   */
  storageClass?: ObservedStorageClass;
}
