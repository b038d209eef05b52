// A simulated twin of one shard's world (StatefulSet controller, kubelet, the Raft membership and the nodes' own
// behaviour), deterministic, for replaying the planner step by step. It checks the safety properties itself when an
// action is applied, independently of the planner: no removal of an absent id, no re-adding a removed id, no
// disruptive step that leaves fewer healthy voters than a quorum (for 3+ voters).
import { desiredImage, type RaftCluster, type RaftClusterSpec } from '../src/api/raftcluster.js';
import { podName, pvcName } from '../src/children/names.js';
import { childrenSpecHash, memberSpecHash } from '../src/children/spec-hash.js';
import { quorum } from '../src/health/health.js';
import type { Action, Plan } from '../src/planner/action.js';
import type { ObservedCluster, RaftMember } from '../src/model/observed.js';
import { plan } from '../src/planner/plan.js';
import { BASE_DATA_FORMAT, dataFormatOfVersion } from '../../node/shared/versioning/data-format.js';

export interface SimPod {
  name: string;
  ordinal: number;
  image: string;
  /** The member hash of the template it was created from. */
  memberHash: string;
  /** Pending pods have not answered their Status RPC yet. */
  running: boolean;
  deleting: boolean;
  id: string;
  incarnation: number;
  joined: boolean;
}

export interface SimPvc {
  ordinal: number;
  /** Id of the member whose Raft state this volume holds, if any. */
  dataId: string | undefined;
  incarnation: number;
  deleting: boolean;
}

export interface SimWorld {
  spec: RaftClusterSpec;
  childrenExist: boolean;
  sts:
    | {
        replicas: number;
        image: string;
        initialClusterState: 'new' | 'existing';
        childrenHash: string;
        /** What pods created from its template carry. */
        memberHash: string;
      }
    | undefined;
  /** Pod restarts (deletions) per pod name, to check a rollout restarts each pod once. */
  restarts: Record<string, number>;
  pods: SimPod[];
  pvcs: SimPvc[];
  members: RaftMember[];
  leaderId: string | undefined;
  lastIndex: number;
  nextId: number;
  removedIds: string[];
  /** The data format the group writes (set by SetDataFormat). */
  dataFormat: number;
  /** The RaftCluster's annotations (what the user asked for beyond the spec). */
  annotations?: Record<string, string>;
  /** Safety violations seen so far (the tests expect none). */
  violations: string[];
}

/** The version a simulated pod's build reports: its image tag. */
function versionOf(image: string): string {
  return image.slice(image.lastIndexOf(':') + 1);
}

/** The newest data format a simulated pod's build reads. */
function readsUpTo(image: string): number {
  return dataFormatOfVersion(versionOf(image)) ?? BASE_DATA_FORMAT;
}

export const CLUSTER = 'demo';
export const NAMESPACE = 'db';

export function baseSpec(overrides: Partial<RaftClusterSpec> = {}): RaftClusterSpec {
  return {
    replicas: 3,
    shards: 1,
    version: '1.0.0',
    storage: { size: '1Gi' },
    raft: { tickMs: 100, electionTicks: 10, heartbeatTicks: 1 },
    paused: false,
    pvcRetention: { whenScaled: 'Delete', whenDeleted: 'Retain' },
    service: { type: 'ClusterIP' },
    recovery: { replaceUnschedulableAfter: '5m' },
    ...overrides,
  };
}

export function emptyWorld(spec: RaftClusterSpec): SimWorld {
  return {
    spec,
    childrenExist: false,
    sts: undefined,
    pods: [],
    pvcs: [],
    members: [],
    leaderId: undefined,
    lastIndex: 0,
    nextId: 1,
    removedIds: [],
    restarts: {},
    dataFormat: BASE_DATA_FORMAT,
    violations: [],
  };
}

export function clone(w: SimWorld): SimWorld {
  return structuredClone(w);
}

function memberHealthy(w: SimWorld, m: RaftMember): boolean {
  const pod = w.pods.find((p) => p.name === m.name);
  return pod !== undefined && pod.running && !pod.deleting && pod.id === m.id && pod.joined;
}

function refreshHealth(w: SimWorld): void {
  for (const m of w.members) m.healthy = memberHealthy(w, m);
  const voters = w.members.filter((m) => m.role === 'voter');
  const up = voters.filter((m) => m.healthy);
  const leader = w.members.find((m) => m.id === w.leaderId);
  if (leader === undefined || !leader.healthy || leader.role !== 'voter') {
    w.leaderId =
      up.length >= quorum(voters.length) && voters.length > 0
        ? up.sort((a, b) => a.name.localeCompare(b.name))[0]?.id
        : undefined;
  } else if (up.length < quorum(voters.length)) {
    w.leaderId = undefined;
  }
}

/** The observed state the I/O layer would build from this world. */
export function observe(
  w: SimWorld,
  status: RaftCluster['status'] = undefined,
  unreachable = false,
): ObservedCluster {
  refreshHealth(w);
  const raft: ObservedCluster['shards'][number]['raft'] =
    unreachable || w.members.length === 0
      ? { kind: 'unreachable', reason: 'connection refused' }
      : {
          kind: 'members',
          leaderId: w.leaderId,
          lastIndex: w.lastIndex,
          members: structuredClone(w.members),
        };
  return {
    cluster: {
      apiVersion: 'raftstore.dev/v1alpha1',
      kind: 'RaftCluster',
      metadata: {
        name: CLUSTER,
        namespace: NAMESPACE,
        uid: 'uid-1',
        generation: 1,
        ...(w.annotations !== undefined ? { annotations: w.annotations } : {}),
      },
      spec: w.spec,
      ...(status !== undefined ? { status } : {}),
    },
    childrenExist: w.childrenExist,
    bootstrapShards: 1,
    shards: [
      {
        shard: 0,
        statefulSet:
          w.sts === undefined
            ? undefined
            : {
                replicas: w.sts.replicas,
                image: w.sts.image,
                initialClusterState: w.sts.initialClusterState,
                childrenHash: w.sts.childrenHash,
              },
        pods: w.pods.map((p) => ({
          name: p.name,
          ordinal: p.ordinal,
          phase: p.running ? 'Running' : 'Pending',
          ready: p.running && p.joined,
          image: p.image,
          memberHash: p.memberHash,
          deleting: p.deleting,
          ...(p.running
            ? {
                identity: {
                  id: p.id,
                  incarnation: p.incarnation,
                  joined: p.joined,
                  version: versionOf(p.image),
                  dataFormat: w.dataFormat,
                  maxDataFormat: readsUpTo(p.image),
                },
              }
            : {}),
        })),
        pvcs: w.pvcs.map((v) => ({
          name: pvcName(CLUSTER, 0, v.ordinal),
          ordinal: v.ordinal,
          deleting: v.deleting,
        })),
        raft,
        // One shard: its leader serves every slot.
        slots:
          raft.kind === 'members' && raft.leaderId !== undefined
            ? { owned: 4096, moving: 0, epoch: 0 }
            : undefined,
        slotTable: undefined, // not read for a single shard
      },
    ],
  };
}

function violation(w: SimWorld, what: string): void {
  w.violations.push(what);
}

function checkQuorumAfter(w: SimWorld, what: string): void {
  refreshHealth(w);
  const voters = w.members.filter((m) => m.role === 'voter');
  const up = voters.filter((m) => m.healthy).length;
  if (voters.length >= 3 && up < quorum(voters.length))
    violation(w, `${what} lost quorum (${up}/${voters.length})`);
}

/** Execute an action against the world (the admin API and Kubernetes calls, idempotent like the real ones). */
export function apply(w: SimWorld, action: Action): void {
  switch (action.type) {
    case 'ApplyChildren':
      w.childrenExist = true;
      w.sts = {
        ...(w.sts ?? { replicas: w.spec.replicas, initialClusterState: 'new' }),
        image: desiredImage(w.spec),
        childrenHash: childrenSpecHash(w.spec),
        memberHash: memberSpecHash(w.spec),
      };
      return;
    case 'SetInitialClusterState':
      if (w.sts !== undefined) w.sts.initialClusterState = action.state;
      return;
    case 'ScaleStatefulSet':
      if (w.sts !== undefined) w.sts.replicas = action.replicas;
      for (const p of w.pods) if (p.ordinal >= action.replicas) p.deleting = true;
      checkQuorumAfter(w, `ScaleStatefulSet(${action.replicas})`);
      return;
    case 'AddLearner': {
      if (w.removedIds.includes(action.id)) violation(w, `AddLearner re-added removed id ${action.id}`);
      const existing = w.members.find((m) => m.id === action.id);
      if (existing !== undefined) return; // idempotent: already added
      if (w.members.some((m) => m.name === action.name))
        violation(w, `AddLearner ${action.name}: name already a member`);
      const pod = w.pods.find((p) => p.name === action.name);
      w.members.push({
        name: action.name,
        id: action.id,
        role: 'learner',
        healthy: false,
        matchIndex: 0,
        incarnation: pod?.incarnation ?? 0,
      });
      return;
    }
    case 'PromoteLearner': {
      const m = w.members.find((x) => x.id === action.id);
      if (m === undefined) violation(w, `PromoteLearner of absent id ${action.id}`);
      else m.role = 'voter';
      return;
    }
    case 'TransferLeadership': {
      const to = w.members.find((x) => x.id === action.toId);
      if (to === undefined || to.role !== 'voter' || !memberHealthy(w, to))
        violation(w, `TransferLeadership to unfit ${action.toId}`);
      else w.leaderId = to.id;
      return;
    }
    case 'RemoveMember': {
      const i = w.members.findIndex((m) => m.id === action.id);
      // The admin API answers NotFound and the executor treats that as done: a retried removal is a no-op. The
      // planner, though, must never plan one (checked by planRemovesPresentMember).
      if (i < 0) return;
      w.members.splice(i, 1);
      w.removedIds.push(action.id);
      checkQuorumAfter(w, `RemoveMember(${action.id})`);
      return;
    }
    case 'DeletePod': {
      const p = w.pods.find((x) => x.name === action.name);
      if (p !== undefined && !p.deleting) {
        p.deleting = true;
        w.restarts[p.name] = (w.restarts[p.name] ?? 0) + 1;
      }
      checkQuorumAfter(w, `DeletePod(${action.name})`);
      return;
    }
    case 'DeletePVC': {
      const v = w.pvcs.find((x) => pvcName(CLUSTER, 0, x.ordinal) === action.name);
      if (v !== undefined) v.deleting = true;
      return;
    }
    case 'SetDataFormat': {
      // The members refuse a raise while one of them cannot read the new format; the planner must not ask.
      if (action.format > w.dataFormat) {
        for (const m of w.members) {
          const pod = w.pods.find((p) => p.name === m.name);
          if (pod === undefined || readsUpTo(pod.image) < action.format)
            violation(w, `SetDataFormat(${action.format}) while ${m.name} cannot read it`);
        }
      }
      w.dataFormat = action.format;
      return;
    }
    case 'Wait':
    case 'Done':
      return;
  }
}

/**
 * One tick of everything that is not the operator: deleting pods go away, the StatefulSet controller creates missing
 * pods (Pending first, Running with an identity on the next tick), founders form the cluster, added members join
 * and catch up (half the gap per tick), the log grows.
 */
export function tick(w: SimWorld): void {
  w.lastIndex += 10;
  w.pods = w.pods.filter((p) => !p.deleting);
  // A claim in deletion goes once no pod uses it (kubernetes.io/pvc-protection).
  w.pvcs = w.pvcs.filter((v) => !(v.deleting && !w.pods.some((p) => p.ordinal === v.ordinal)));
  const sts = w.sts;
  if (sts !== undefined) {
    for (let o = 0; o < sts.replicas; o++) {
      const name = podName(CLUSTER, 0, o);
      const pod = w.pods.find((p) => p.name === name);
      if (pod === undefined) {
        if (w.pvcs.some((v) => v.ordinal === o && v.deleting)) continue;
        w.pods.push({
          name,
          ordinal: o,
          image: sts.image,
          memberHash: sts.memberHash,
          running: false,
          deleting: false,
          id: '',
          incarnation: 0,
          joined: false,
        });
        continue;
      }
      if (pod.running) continue;
      let pvc = w.pvcs.find((v) => v.ordinal === o);
      if (pvc === undefined) {
        pvc = { ordinal: o, dataId: undefined, incarnation: 0, deleting: false };
        w.pvcs.push(pvc);
      }
      pod.running = true;
      // A build that cannot read the group's format cannot start on its data (nor on a snapshot sent to it).
      if (readsUpTo(pod.image) < w.dataFormat)
        violation(w, `${name} on ${versionOf(pod.image)} cannot read data format ${w.dataFormat}`);
      if (pvc.dataId !== undefined) {
        pod.id = pvc.dataId;
        pod.incarnation = pvc.incarnation;
        pod.joined = true;
      } else {
        pvc.incarnation += 1;
        pod.id = sts.initialClusterState === 'new' ? `f${o}` : `n${w.nextId++}`;
        pod.incarnation = pvc.incarnation;
        pod.joined = false;
      }
    }
    // Founders form the cluster once all of them run (they list each other in RAFTSTORE_INITIAL_MEMBERS).
    if (sts.initialClusterState === 'new' && w.members.length === 0) {
      const founders = w.pods.filter((p) => p.running && p.id.startsWith('f'));
      if (founders.length === sts.replicas) {
        for (const p of founders) {
          p.joined = true;
          w.pvcs.find((v) => v.ordinal === p.ordinal)!.dataId = p.id;
          w.members.push({
            name: p.name,
            id: p.id,
            role: 'voter',
            healthy: true,
            matchIndex: w.lastIndex,
            incarnation: p.incarnation,
          });
        }
      }
    }
  }
  // Added members receive a snapshot and join.
  for (const p of w.pods) {
    if (p.running && !p.joined && w.members.some((m) => m.id === p.id)) {
      p.joined = true;
      w.pvcs.find((v) => v.ordinal === p.ordinal)!.dataId = p.id;
    }
  }
  refreshHealth(w);
  for (const m of w.members) {
    if (!m.healthy) continue;
    m.matchIndex =
      m.id === w.leaderId || m.role === 'voter'
        ? w.lastIndex
        : m.matchIndex + Math.ceil((w.lastIndex - m.matchIndex) / 2);
  }
}

/** Flag a planned removal of an id that is not in the configuration: the planner lost track (double removal). */
export function checkPlanned(w: SimWorld, action: Action): void {
  if (action.type === 'RemoveMember' && !w.members.some((m) => m.id === action.id)) {
    violation(w, `planned RemoveMember of absent id ${action.id} (double removal)`);
  }
  if (action.type === 'AddLearner' && w.removedIds.includes(action.id)) {
    violation(w, `planned AddLearner of removed id ${action.id}`);
  }
}

/**
 * The reconcile loop until Done: observe, plan, act, let time pass. Returns every plan in order; throws when the
 * planner does not get there in `maxSteps`. The world is changed in place.
 */
export function runToDone(w: SimWorld, now = new Date('2026-01-01T00:00:00Z'), maxSteps = 200): Plan[] {
  const plans: Plan[] = [];
  for (let i = 0; i < maxSteps; i++) {
    const p = plan(observe(w), now);
    plans.push(p);
    if (p.action.type === 'Done') return plans;
    checkPlanned(w, p.action);
    apply(w, p.action);
    tick(w);
  }
  throw new Error(`did not converge in ${maxSteps} steps; last: ${JSON.stringify(plans.at(-1))}`);
}

/**
 * A cluster of `spec` the planner has brought from nothing to Done: formed, every member a healthy voter. The start
 * of most planner and status tests; throws when the planner does not get there in `maxSteps`.
 */
export function convergedWorld(
  spec: RaftClusterSpec = baseSpec(),
  now = new Date('2026-01-01T00:00:00Z'),
  maxSteps = 40,
): SimWorld {
  const w = emptyWorld(spec);
  runToDone(w, now, maxSteps);
  return w;
}
