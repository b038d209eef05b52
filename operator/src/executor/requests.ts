// Pure: what each planner Action means as requests to the API server and to the members' admin API. The executor
// (executor.ts) only carries these out, so the mapping is tested without any I/O.
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { Operation, QuorumRecovery, RaftCluster, SlotMove } from '../api/raftcluster.js';
import type { MoveReport } from '../../../node/shared/sharding/move-driver.js';
import type { AddLearnerRequest } from '../admin/admin-api.js';
import { buildChildren, initialShardState, type Child } from '../children/children.js';
import { CLIENT_PORT, ordinalOf, shardServiceName, statefulSetName } from '../children/names.js';
import { buildStatefulSet, type ShardChildState } from '../children/statefulset.js';
import type { Action } from '../planner/action.js';
import {
  bootstrapShardsOf,
  hostPort,
  isOwnedBy,
  mapPvc,
  mapStatefulSet,
  type ClusterObjects,
} from '../observer/map.js';

/** What the operator ever deletes: members (fencing, upgrades, scale-down) and a retired shard's objects. */
export type DeletableResource =
  'pods' | 'persistentvolumeclaims' | 'statefulsets' | 'poddisruptionbudgets' | 'services';

export type ExecRequest =
  /** Server-side apply, one field manager, force. */
  | { kind: 'apply'; object: Child }
  /** Delete with a uid precondition: never the successor of the object the plan was made on. */
  | {
      kind: 'delete';
      resource: DeletableResource;
      namespace: string;
      name: string;
      uid: string | undefined;
    }
  | { kind: 'addLearner'; shard: number; req: AddLearnerRequest }
  | { kind: 'promote'; shard: number; id: string }
  | { kind: 'removeMember'; shard: number; id: string }
  | { kind: 'transferLeadership'; shard: number; toId: string }
  /** Drive one batch of slots between two groups to the end (the move driver, against the groups' leaders). */
  | { kind: 'moveSlots'; move: SlotMove }
  /** Ask for a larger volume: a merge patch of the claim's storage request, with a uid precondition. */
  | { kind: 'resizeClaim'; namespace: string; name: string; size: string; uid: string | undefined }
  /** Delete the StatefulSet (uid precondition) leaving its pods, wait until it is gone, then apply `object`. */
  | { kind: 'recreateStatefulSet'; object: V1StatefulSet; uid: string | undefined }
  /** Ask one member, at its own address, to restart as a one-voter cluster keeping its data. */
  | { kind: 'forceNewCluster'; shard: number; member: string; address: string; token: string }
  /** Point slots `shard` gave away at their owner now: one `repoint` step, a Raft command in that group. */
  | { kind: 'repointSlots'; shard: number; owner: number; epoch: number; slots: readonly number[] }
  /** Set the shard's data format: its leader proposes it (a follower forwards). */
  | { kind: 'setDataFormat'; shard: number; format: number };

export class ExecutorError extends Error {
  override name = 'ExecutorError';
}

/** What the StatefulSet of `shard` carries now (or, when it does not exist, what a new shard starts with). */
export function shardState(
  cluster: RaftCluster,
  objects: ClusterObjects,
  shard: number,
): { state: ShardChildState; exists: boolean } {
  const name = statefulSetName(cluster.metadata.name, shard);
  const sts = objects.statefulSets.find(
    (s) => s.metadata?.name === name && isOwnedBy(s, cluster.metadata.uid),
  );
  if (sts === undefined) {
    const initial = initialShardState(cluster, shard, bootstrapShardsOf(cluster, objects));
    return { state: formedShardState(cluster, objects, initial) ?? initial, exists: false };
  }
  const m = mapStatefulSet(sts);
  return {
    state: {
      shard,
      replicas: m.replicas,
      initialClusterState: m.initialClusterState,
      // Older objects without the annotation: the founders were the replicas asked for at creation; the spec's
      // count is the best guess left, and it only names the founding peers a fresh founder would contact.
      founders: m.founders ?? cluster.spec.replicas,
      bootstrapShards: m.bootstrapShards ?? bootstrapShardsOf(cluster, objects),
      ...(m.volumeSize !== undefined ? { volumeSize: m.volumeSize } : {}),
    },
    exists: true,
  };
}

/**
 * A shard whose StatefulSet is gone while its members' pods or volumes remain (deleted with --cascade=orphan, or an
 * operator stopped between the two halves of re-creating it): it was founded, so its pods must join, never found
 * a second cluster, and the StatefulSet must keep every pod that still runs. Undefined when nothing of it remains.
 */
function formedShardState(
  cluster: RaftCluster,
  objects: ClusterObjects,
  initial: ShardChildState,
): ShardChildState | undefined {
  const ordinals = objects.pods.flatMap((p) => {
    const o = ordinalOf(cluster.metadata.name, initial.shard, p.metadata?.name ?? '');
    return o === undefined || p.metadata?.deletionTimestamp != null ? [] : [o];
  });
  const hasVolumes = objects.pvcs.some((v) => mapPvc(cluster.metadata.name, initial.shard, v) !== undefined);
  if (ordinals.length === 0 && !hasVolumes) return undefined;
  return {
    ...initial,
    initialClusterState: 'existing',
    replicas: ordinals.length === 0 ? initial.replicas : Math.max(...ordinals) + 1,
  };
}

function existingShard(
  cluster: RaftCluster,
  objects: ClusterObjects,
  shard: number,
  action: string,
): ShardChildState {
  const { state, exists } = shardState(cluster, objects, shard);
  if (!exists) {
    throw new ExecutorError(
      `${action}: the StatefulSet of shard ${shard} does not exist (the planner should have applied it first)`,
    );
  }
  return state;
}

export function requestsFor(action: Action, cluster: RaftCluster, objects: ClusterObjects): ExecRequest[] {
  const { namespace } = cluster.metadata;
  switch (action.type) {
    case 'ApplyChildren': {
      const states = Array.from(
        { length: cluster.spec.shards },
        (_, s) => shardState(cluster, objects, s).state,
      );
      return buildChildren(cluster, states).map((object) => ({ kind: 'apply', object }));
    }
    case 'SetInitialClusterState': {
      const state = existingShard(cluster, objects, action.shard, action.type);
      return [
        { kind: 'apply', object: buildStatefulSet(cluster, { ...state, initialClusterState: action.state }) },
      ];
    }
    case 'ScaleStatefulSet': {
      if (!(action.replicas >= 0))
        throw new ExecutorError(`ScaleStatefulSet: replicas ${action.replicas} is negative`);
      const state = existingShard(cluster, objects, action.shard, action.type);
      return [{ kind: 'apply', object: buildStatefulSet(cluster, { ...state, replicas: action.replicas }) }];
    }
    case 'DeletePod': {
      const pod = objects.pods.find((p) => p.metadata?.name === action.name);
      if (pod === undefined) return []; // already gone
      return [{ kind: 'delete', resource: 'pods', namespace, name: action.name, uid: pod.metadata?.uid }];
    }
    case 'DeletePVC': {
      const pvc = objects.pvcs.find((p) => p.metadata?.name === action.name);
      if (pvc === undefined || pvc.metadata?.deletionTimestamp != null) return [];
      return [
        {
          kind: 'delete',
          resource: 'persistentvolumeclaims',
          namespace,
          name: action.name,
          uid: pvc.metadata?.uid,
        },
      ];
    }
    case 'AddLearner':
      return [
        {
          kind: 'addLearner',
          shard: action.shard,
          req: {
            shard: action.shard,
            name: action.name,
            id: action.id,
            peerAddress: action.peerAddress,
            clientAddress: action.clientAddress,
          },
        },
      ];
    case 'PromoteLearner':
      return [{ kind: 'promote', shard: action.shard, id: action.id }];
    case 'RemoveMember':
      return [{ kind: 'removeMember', shard: action.shard, id: action.id }];
    case 'TransferLeadership':
      return [{ kind: 'transferLeadership', shard: action.shard, toId: action.toId }];
    case 'MoveSlots':
      return [{ kind: 'moveSlots', move: action.move }];
    case 'RetireShard':
      return retireShard(cluster, objects, action.shard);
    case 'RepointSlots':
      return action.batches.map((b) => ({
        kind: 'repointSlots',
        shard: action.shard,
        owner: b.owner,
        epoch: b.epoch,
        slots: b.slots,
      }));
    case 'ResizeClaims':
      return action.claims.flatMap((name): ExecRequest[] => {
        const pvc = objects.pvcs.find((p) => p.metadata?.name === name);
        // Gone or going: nothing to grow; the next observation decides about a successor.
        if (pvc === undefined || pvc.metadata?.deletionTimestamp != null) return [];
        return [{ kind: 'resizeClaim', namespace, name, size: action.size, uid: pvc.metadata?.uid }];
      });
    case 'RecreateStatefulSet': {
      const name = statefulSetName(cluster.metadata.name, action.shard);
      const sts = objects.statefulSets.find(
        (s) => s.metadata?.name === name && isOwnedBy(s, cluster.metadata.uid),
      );
      if (sts === undefined) {
        throw new ExecutorError(
          `RecreateStatefulSet: the StatefulSet of shard ${action.shard} does not exist`,
        );
      }
      const state = existingShard(cluster, objects, action.shard, action.type);
      return [
        {
          kind: 'recreateStatefulSet',
          object: buildStatefulSet(cluster, { ...state, volumeSize: cluster.spec.storage.size }),
          uid: sts.metadata?.uid,
        },
      ];
    }
    case 'ForceNewCluster': {
      // That member and no other: its own pod's address, never a fallback to another member.
      const pod = objects.pods.find((p) => p.metadata?.name === action.member);
      const ip = pod?.status?.podIP;
      if (pod === undefined || ip === undefined || ip === '') {
        throw new ExecutorError(`ForceNewCluster: pod ${action.member} has no address to call`);
      }
      return [
        {
          kind: 'forceNewCluster',
          shard: action.shard,
          member: action.member,
          address: hostPort(ip, CLIENT_PORT),
          token: action.token,
        },
      ];
    }
    case 'SetDataFormat':
      return [{ kind: 'setDataFormat', shard: action.shard, format: action.format }];
    case 'Wait':
    case 'Done':
      return [];
  }
}

/**
 * A retired shard's objects: its StatefulSet (the garbage collector then removes its pods), PDB and Service, and
 * its volumes when pvcRetention.whenScaled is Delete. Refused for a shard the spec still asks for.
 */
function retireShard(cluster: RaftCluster, objects: ClusterObjects, shard: number): ExecRequest[] {
  if (shard < cluster.spec.shards) {
    throw new ExecutorError(
      `RetireShard: shard ${shard} is one of the ${cluster.spec.shards} the spec asks for`,
    );
  }
  const { namespace, uid } = cluster.metadata;
  type Owned = {
    metadata?: {
      name?: string;
      uid?: string;
      ownerReferences?: { uid: string; controller?: boolean }[];
    };
  };
  const owned = (list: readonly Owned[], resource: DeletableResource, name: string): ExecRequest[] => {
    const o = list.find((x) => x.metadata?.name === name && isOwnedBy(x, uid));
    return o === undefined ? [] : [{ kind: 'delete', resource, namespace, name, uid: o.metadata?.uid }];
  };
  const stsName = statefulSetName(cluster.metadata.name, shard);
  const requests: ExecRequest[] = [
    ...owned(objects.statefulSets, 'statefulsets', stsName),
    ...owned(objects.pdbs, 'poddisruptionbudgets', stsName),
    ...owned(objects.services, 'services', shardServiceName(cluster.metadata.name, shard)),
  ];
  if (cluster.spec.pvcRetention.whenScaled === 'Delete') {
    for (const pvc of objects.pvcs) {
      const name = pvc.metadata?.name ?? '';
      if (mapPvc(cluster.metadata.name, shard, pvc) === undefined || pvc.metadata?.deletionTimestamp != null)
        continue;
      requests.push({
        kind: 'delete',
        resource: 'persistentvolumeclaims',
        namespace,
        name,
        uid: pvc.metadata?.uid,
      });
    }
  }
  return requests;
}

export interface EventSpec {
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. LearnerAdded. */
  reason: string;
  /** The step, e.g. AddLearner. */
  action: string;
  note: string;
}

const REASONS: Partial<Record<Action['type'], string>> = {
  SetInitialClusterState: 'Bootstrapped',
  ScaleStatefulSet: 'StatefulSetScaled',
  AddLearner: 'LearnerAdded',
  PromoteLearner: 'MemberPromoted',
  TransferLeadership: 'LeadershipTransferred',
  RemoveMember: 'MemberRemoved',
  DeletePod: 'PodDeleted',
  DeletePVC: 'VolumeDeleted',
  MoveSlots: 'SlotsMoved',
  RetireShard: 'ShardRetired',
  RepointSlots: 'SlotsRepointed',
  ResizeClaims: 'VolumesResizing',
  RecreateStatefulSet: 'StatefulSetRecreated',
  ForceNewCluster: 'QuorumLossRecovered',
  SetDataFormat: 'DataFormatSet',
};

/** The Event for an executed action: every membership change and upgrade step; nothing for Wait/Done. */
export function eventFor(
  action: Action,
  operation: Operation | undefined,
  moved?: MoveReport,
  forced?: QuorumRecovery,
): EventSpec | undefined {
  if (action.type === 'Wait' || action.type === 'Done') return undefined;
  const op = operation?.type;
  let reason = REASONS[action.type] ?? 'ChildrenApplied';
  if (action.type === 'ApplyChildren') {
    reason = op === 'Upgrade' ? 'UpgradeStarted' : op === 'Bootstrap' ? 'Creating' : 'ChildrenApplied';
  } else if (action.type === 'DeletePod' && op === 'Upgrade') {
    reason = 'UpgradeRestart';
  } else if (action.type === 'DeletePod' && op === 'Rollout') {
    reason = 'RolloutRestart';
  }
  const done =
    action.type === 'MoveSlots' && moved !== undefined
      ? `moved slots ${action.move.firstSlot}-${action.move.lastSlot} from shard ${action.move.from} to shard ` +
        `${action.move.to} (epoch ${action.move.epoch}): ${moved.keysCopied} key(s) in ${moved.pages} page(s), ` +
        `writes to these slots paused ${moved.pauseMs} ms`
      : undefined;
  const kept =
    forced !== undefined
      ? `shard ${forced.shard}: ${forced.member} restarts as a one-voter cluster keeping its data up to commit ` +
        `index ${forced.commit} (recovery ${forced.token}); it had ${forced.lastIndex - forced.commit} uncommitted ` +
        `log entr${forced.lastIndex - forced.commit === 1 ? 'y' : 'ies'} after it (index ${forced.lastIndex}), ` +
        `dropped; writes the lost majority acknowledged after index ${forced.commit} may be gone`
      : undefined;
  return {
    type: forced !== undefined ? 'Warning' : 'Normal',
    reason,
    action: operation?.step ?? action.type,
    note: truncate(done ?? kept ?? operation?.message ?? action.type, 1000),
  };
}

export function failureEvent(action: Action, operation: Operation | undefined, error: string): EventSpec {
  return {
    type: 'Warning',
    reason: 'StepFailed',
    action: operation?.step ?? action.type,
    note: truncate(`${operation?.message ?? action.type} failed: ${error}`, 1000),
  };
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
