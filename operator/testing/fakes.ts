// Plain in-memory fakes for unit tests of the I/O shell: cluster objects as the informers would hold them, and an
// admin API whose answers and failures a test sets per address. Not used by production code.
import type {
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { RaftCluster, RaftClusterSpec } from '../src/api/raftcluster.js';
import { buildChildren, initialShardState } from '../src/children/children.js';
import { pvcName, shardLabels, podName } from '../src/children/names.js';
import type { AddLearnerRequest, AdminApi, DataFormatChange, ForcedCluster } from '../src/admin/admin-api.js';
import type { Child } from '../src/children/children.js';
import type { DeleteOutcome, KubeWriter } from '../src/executor/executor.js';
import type { Json } from '../src/executor/merge-patch.js';
import type { EventSpec } from '../src/executor/requests.js';
import { AdminError } from '../src/admin/admin-api.js';
import type { AdminMember, AdminStatus } from '../src/model/admin-answers.js';
import type { SlotTable } from '../src/model/observed.js';
import type { ClusterObjects } from '../src/observer/map.js';
import { baseSpec } from './sim-world.js';

export function testCluster(
  over: Partial<RaftClusterSpec> = {},
  status?: RaftCluster['status'],
): RaftCluster {
  return {
    apiVersion: 'raftstore.dev/v1alpha1',
    kind: 'RaftCluster',
    metadata: { name: 'demo', namespace: 'db', uid: 'uid-1', generation: 2 },
    spec: baseSpec(over),
    ...(status !== undefined ? { status } : {}),
  };
}

export function testPod(
  cluster: RaftCluster,
  shard: number,
  ordinal: number,
  over: {
    phase?: string;
    ip?: string;
    image?: string;
    deleting?: boolean;
    ready?: boolean;
    uid?: string;
  } = {},
): V1Pod {
  const name = podName(cluster.metadata.name, shard, ordinal);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: cluster.metadata.namespace,
      uid: over.uid ?? `pod-uid-${name}`,
      labels: shardLabels(cluster.metadata.name, shard),
      ...(over.deleting === true ? { deletionTimestamp: new Date('2026-01-01T00:00:00Z') } : {}),
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'node', image: over.image ?? 'raftstore/node:1.0.0' }] },
    status: {
      phase: over.phase ?? 'Running',
      podIP: over.ip ?? `10.244.1.${10 + ordinal + 10 * shard}`,
      conditions: [{ type: 'Ready', status: over.ready === false ? 'False' : 'True' }],
    },
  };
}

export function testPvc(
  cluster: RaftCluster,
  shard: number,
  ordinal: number,
  deleting = false,
): V1PersistentVolumeClaim {
  const name = pvcName(cluster.metadata.name, shard, ordinal);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: cluster.metadata.namespace,
      uid: `pvc-uid-${name}`,
      labels: shardLabels(cluster.metadata.name, shard),
      ...(deleting ? { deletionTimestamp: new Date('2026-01-01T00:00:00Z') } : {}),
    },
  };
}

/** Every child as the operator applies it for a fresh cluster, plus `pods` running pods and their volumes. */
export function testObjects(
  cluster: RaftCluster,
  pods: number,
): ClusterObjects & { pods: V1Pod[]; pvcs: V1PersistentVolumeClaim[] } {
  const children = buildChildren(
    cluster,
    Array.from({ length: cluster.spec.shards }, (_, s) => initialShardState(cluster, s, cluster.spec.shards)),
  );
  const shardsPods: V1Pod[] = [];
  const pvcs: V1PersistentVolumeClaim[] = [];
  for (let s = 0; s < cluster.spec.shards; s++) {
    for (let o = 0; o < pods; o++) {
      shardsPods.push(testPod(cluster, s, o));
      pvcs.push(testPvc(cluster, s, o));
    }
  }
  return {
    statefulSets: children.filter((c): c is V1StatefulSet => c.kind === 'StatefulSet'),
    services: children.filter((c): c is V1Service => c.kind === 'Service'),
    pdbs: children.filter((c): c is V1PodDisruptionBudget => c.kind === 'PodDisruptionBudget'),
    serviceAccounts: children.filter((c): c is V1ServiceAccount => c.kind === 'ServiceAccount'),
    pods: shardsPods,
    pvcs,
  };
}

export function testStatus(member: string, over: Partial<AdminStatus> = {}): AdminStatus {
  return {
    member,
    id: member,
    incarnation: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
    version: '1.0.0',
    isMember: true,
    term: 3,
    lastIndex: 100,
    lastLogTerm: 3,
    commit: 100,
    role: 'follower',
    leader: 'demo-0',
    slotsOwned: 4096,
    slotsMoving: 0,
    slotMapEpoch: 0,
    // A converged member of the current release: the group already writes the newest format.
    dataFormat: 2,
    maxDataFormat: 2,
    ...over,
  };
}

export function testMember(name: string, over: Partial<AdminMember> = {}): AdminMember {
  return {
    name,
    id: name,
    role: 'follower',
    matchIndex: 100,
    healthy: true,
    incarnation: '',
    version: '',
    clientAddress: `${name}.demo-peer.db.svc.cluster.local:2379`,
    ...over,
  };
}

export type AdminCall =
  | { op: 'status' | 'memberList' | 'slotTable'; address: string; shard: number }
  | { op: 'addLearner'; address: string; req: AddLearnerRequest }
  | {
      op: 'promote' | 'removeMember' | 'transferLeadership' | 'forceNewCluster';
      address: string;
      shard: number;
      id: string;
    }
  | { op: 'setDataFormat'; address: string; shard: number; format: number };

/** Answers per address; an address without an answer fails like a dead member (UNAVAILABLE). */
export class FakeAdmin implements AdminApi {
  readonly statuses = new Map<string, AdminStatus>();
  readonly memberLists = new Map<string, AdminMember[]>();
  /** SlotStatus answers per address; an address without one fails like a dead member. */
  readonly slotTables = new Map<string, SlotTable>();
  /** Addresses whose membership calls fail, with the error. */
  readonly failures = new Map<string, AdminError>();
  readonly calls: AdminCall[] = [];
  closed = false;

  status(address: string, shard: number): Promise<AdminStatus> {
    this.calls.push({ op: 'status', address, shard });
    const s = this.statuses.get(address);
    return s === undefined ? Promise.reject(this.failOr(address, 'Status')) : Promise.resolve(s);
  }
  memberList(address: string, shard: number): Promise<AdminMember[]> {
    this.calls.push({ op: 'memberList', address, shard });
    const m = this.memberLists.get(address);
    return m === undefined ? Promise.reject(this.failOr(address, 'MemberList')) : Promise.resolve(m);
  }
  slotTable(address: string, shard: number): Promise<SlotTable> {
    this.calls.push({ op: 'slotTable', address, shard });
    const t = this.slotTables.get(address);
    return t === undefined ? Promise.reject(this.failOr(address, 'SlotStatus')) : Promise.resolve(t);
  }
  addLearner(address: string, req: AddLearnerRequest): Promise<void> {
    this.calls.push({ op: 'addLearner', address, req });
    return this.membership(address, 'AddLearner');
  }
  promote(address: string, shard: number, id: string): Promise<void> {
    this.calls.push({ op: 'promote', address, shard, id });
    return this.membership(address, 'Promote');
  }
  removeMember(address: string, shard: number, id: string): Promise<void> {
    this.calls.push({ op: 'removeMember', address, shard, id });
    return this.membership(address, 'RemoveMember');
  }
  transferLeadership(address: string, shard: number, id: string): Promise<string> {
    this.calls.push({ op: 'transferLeadership', address, shard, id });
    return this.membership(address, 'TransferLeadership').then(() => id);
  }
  /** What a forced member answers it keeps. */
  forcedKeeps: ForcedCluster = { commit: 118, lastIndex: 120, lastLogTerm: 3 };
  forceNewCluster(address: string, shard: number, member: string): Promise<ForcedCluster> {
    this.calls.push({ op: 'forceNewCluster', address, shard, id: member });
    return this.membership(address, 'ForceNewCluster').then(() => this.forcedKeeps);
  }
  setDataFormat(address: string, shard: number, format: number): Promise<DataFormatChange> {
    this.calls.push({ op: 'setDataFormat', address, shard, format });
    return this.membership(address, 'SetDataFormat').then(() => ({ previous: 1, format, index: 200 }));
  }
  close(): void {
    this.closed = true;
  }

  private membership(address: string, what: string): Promise<void> {
    return this.failures.has(address) ? Promise.reject(this.failOr(address, what)) : Promise.resolve();
  }
  private failOr(address: string, what: string): AdminError {
    return (
      this.failures.get(address) ??
      new AdminError(`${what} at ${address}: UNAVAILABLE: connection refused`, 14)
    );
  }
}

/** Records every write, in order, in `log` (and by kind in the other fields). */
export class FakeKube implements KubeWriter {
  readonly log: string[] = [];
  readonly applied: Child[] = [];
  readonly deleted: string[] = [];
  readonly events: EventSpec[] = [];
  readonly statusPatches: Json[] = [];
  applyError: Error | undefined;
  statusError: Error | undefined;
  apply(object: Child): Promise<void> {
    if (this.applyError !== undefined) return Promise.reject(this.applyError);
    this.log.push(`apply ${object.kind} ${object.metadata?.name}`);
    this.applied.push(object);
    return Promise.resolve();
  }
  delete(resource: string, namespace: string, name: string, uid: string | undefined): Promise<DeleteOutcome> {
    this.log.push(`delete ${resource} ${name}`);
    this.deleted.push(`${resource} ${namespace}/${name} uid=${uid}`);
    return Promise.resolve('deleted');
  }
  resizeClaim(_ns: string, name: string, size: string, uid: string | undefined): Promise<void> {
    this.log.push(`resize ${name} ${size} uid=${uid}`);
    return Promise.resolve();
  }
  recreateStatefulSet(object: V1StatefulSet, uid: string | undefined): Promise<void> {
    this.log.push(`recreate ${object.metadata?.name} uid=${uid}`);
    this.applied.push(object);
    return Promise.resolve();
  }
  patchStatus(_ns: string, _name: string, patch: Json): Promise<void> {
    if (this.statusError !== undefined) return Promise.reject(this.statusError);
    this.log.push(`status ${JSON.stringify(patch)}`);
    this.statusPatches.push(patch);
    return Promise.resolve();
  }
  createEvent(_c: RaftCluster, event: EventSpec): Promise<void> {
    this.log.push(`event ${event.reason}`);
    this.events.push(event);
    return Promise.resolve();
  }
}
