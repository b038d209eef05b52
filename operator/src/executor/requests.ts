// Pure: what each planner Action means as requests to the API server and to the members' admin API. The executor
// (executor.ts) only carries these out, so the mapping is tested without any I/O.
import type { Operation, RaftCluster } from '../api/raftcluster.js';
import type { AddLearnerRequest } from '../admin/admin-api.js';
import { buildChildren, initialShardState, type Child } from '../children/children.js';
import { statefulSetName } from '../children/names.js';
import { buildStatefulSet, type ShardChildState } from '../children/statefulset.js';
import type { Action } from '../planner/action.js';
import { isOwnedBy, mapStatefulSet, type ClusterObjects } from '../observer/map.js';

export type ExecRequest =
  /** Server-side apply, one field manager, force. */
  | { kind: 'apply'; object: Child }
  /** Delete with a uid precondition: never the successor of the object the plan was made on. */
  | {
      kind: 'delete';
      resource: 'pods' | 'persistentvolumeclaims';
      namespace: string;
      name: string;
      uid: string | undefined;
    }
  | { kind: 'addLearner'; shard: number; req: AddLearnerRequest }
  | { kind: 'promote'; shard: number; id: string }
  | { kind: 'removeMember'; shard: number; id: string }
  | { kind: 'transferLeadership'; shard: number; toId: string };

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
  if (sts === undefined) return { state: initialShardState(cluster, shard), exists: false };
  const m = mapStatefulSet(sts);
  return {
    state: {
      shard,
      replicas: m.replicas,
      initialClusterState: m.initialClusterState,
      // Older objects without the annotation: the founders were the replicas asked for at creation; the spec's
      // count is the best guess left, and it only names the founding peers a fresh founder would contact.
      founders: m.founders ?? cluster.spec.replicas,
    },
    exists: true,
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
    case 'Wait':
    case 'Done':
      return [];
  }
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
};

/** The Event for an executed action: every membership change and upgrade step; nothing for Wait/Done. */
export function eventFor(action: Action, operation: Operation | undefined): EventSpec | undefined {
  if (action.type === 'Wait' || action.type === 'Done') return undefined;
  const op = operation?.type;
  let reason = REASONS[action.type] ?? 'ChildrenApplied';
  if (action.type === 'ApplyChildren') {
    reason = op === 'Upgrade' ? 'UpgradeStarted' : op === 'Bootstrap' ? 'Creating' : 'ChildrenApplied';
  } else if (action.type === 'DeletePod' && op === 'Upgrade') {
    reason = 'UpgradeRestart';
  }
  return {
    type: 'Normal',
    reason,
    action: operation?.step ?? action.type,
    note: truncate(operation?.message ?? action.type, 1000),
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
