// Carries out one planned Action: the requests from requests.ts against the API server (KubeWriter) and the members'
// admin API, then the Event. Membership calls go to the shard's leader first and move on to another member only on
// a transient failure (the calls are idempotent on the node side, so a retry elsewhere is safe).
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { Operation, QuorumRecovery, RaftCluster, SlotMove } from '../api/raftcluster.js';
import { AdminError, type AdminApi } from '../admin/admin-api.js';
import { grpcSlotGroups, type SlotGroupsFactory, type SlotGroupsSession } from '../admin/slot-groups.js';
import { driveMove, type MoveReport } from '../../../node/shared/sharding/move-driver.js';
import type { Child } from '../children/children.js';
import type { Action } from '../planner/action.js';
import type { ClusterObjects } from '../observer/map.js';
import { errorMessage, withTimeout } from '../util/timeout.js';
import type { Json } from './merge-patch.js';
import {
  eventFor,
  ExecutorError,
  failureEvent,
  requestsFor,
  type DeletableResource,
  type EventSpec,
  type ExecRequest,
} from './requests.js';

export type DeleteOutcome = 'deleted' | 'gone' | 'replaced';

/** The API server writes the operator makes; each call has its own deadline. */
export interface KubeWriter {
  /** Server-side apply under the operator's field manager, force. */
  apply(object: Child): Promise<void>;
  /** Delete with a uid precondition; 'gone' when it no longer exists, 'replaced' when the uid differs. */
  delete(
    resource: DeletableResource,
    namespace: string,
    name: string,
    uid: string | undefined,
  ): Promise<DeleteOutcome>;
  /** Ask for `size` on a PersistentVolumeClaim (merge patch, uid precondition). */
  resizeClaim(namespace: string, name: string, size: string, uid: string | undefined): Promise<void>;
  /**
   * Delete a StatefulSet leaving its pods (propagation Orphan; uid precondition), wait until it is gone, then apply
   * `object` in its place. Throws when another object took the name, or when the old one outlives the deadline.
   */
  recreateStatefulSet(object: V1StatefulSet, uid: string | undefined): Promise<void>;
  /** JSON merge patch on the RaftCluster's /status subresource. */
  patchStatus(namespace: string, name: string, patch: Json): Promise<void>;
  createEvent(cluster: RaftCluster, event: EventSpec): Promise<void>;
}

export interface ExecuteResult {
  requests: ExecRequest[];
  event: EventSpec | undefined;
  /** What a MoveSlots step did: keys copied, pages, how long writes to the batch paused. */
  moved?: MoveReport;
  /** What a ForceNewCluster step kept, for status.quorumRecoveries. */
  forced?: QuorumRecovery;
}

/** Bounds on one batch of a slot move; past them the step fails and the next reconcile resumes it at its epoch. */
export interface MoveLimits {
  timeoutMs: number;
  maxRounds: number;
}

export const DEFAULT_MOVE_LIMITS: MoveLimits = { timeoutMs: 300_000, maxRounds: 20_000 };

export class Executor {
  /** Sessions of the batches moving now, so stopMoves can end them. */
  private readonly moving = new Set<SlotGroupsSession>();
  private movesStopped = false;

  constructor(
    private readonly kube: KubeWriter,
    private readonly admin: AdminApi,
    /** Members tried per membership call before giving up. */
    private readonly adminAttempts = 3,
    /** Told about Events that could not be written (they never fail the step). */
    private readonly onEventError: (error: string) => void = () => undefined,
    private readonly slotGroups: SlotGroupsFactory = grpcSlotGroups,
    private readonly moveLimits: MoveLimits = DEFAULT_MOVE_LIMITS,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Executes `action`. Throws (after recording a Warning Event) when a request fails; the reconciler retries
   * with backoff, and the planner re-derives the step from a fresh observation.
   */
  async execute(
    cluster: RaftCluster,
    action: Action,
    operation: Operation | undefined,
    objects: ClusterObjects,
    adminAddresses: ReadonlyMap<number, readonly string[]>,
  ): Promise<ExecuteResult> {
    const requests = requestsFor(action, cluster, objects);
    let moved: MoveReport | undefined;
    let forced: QuorumRecovery | undefined;
    try {
      for (const r of requests) {
        const done = await this.perform(cluster, r, adminAddresses);
        moved = done?.moved ?? moved;
        forced = done?.forced ?? forced;
      }
    } catch (err) {
      await this.emit(cluster, failureEvent(action, operation, errorMessage(err)));
      throw err;
    }
    const event = eventFor(action, operation, moved, forced);
    if (event !== undefined) await this.emit(cluster, event);
    return {
      requests,
      event,
      ...(moved !== undefined ? { moved } : {}),
      ...(forced !== undefined ? { forced } : {}),
    };
  }

  /** One batch to the end with the move driver, bounded in rounds and time; resumable at the same epoch. */
  private async moveSlots(
    move: SlotMove,
    adminAddresses: ReadonlyMap<number, readonly string[]>,
  ): Promise<MoveReport> {
    const slots = Array.from({ length: move.lastSlot - move.firstSlot + 1 }, (_, i) => move.firstSlot + i);
    if (this.movesStopped) throw new Error('slot moves are stopped: this operator replica is shutting down');
    const session = this.slotGroups(adminAddresses);
    this.moving.add(session);
    try {
      return await withTimeout(
        driveMove(session.groups, { slots, from: move.from, to: move.to }, move.epoch, {
          maxRounds: this.moveLimits.maxRounds,
        }),
        this.moveLimits.timeoutMs,
        `moving slots ${move.firstSlot}-${move.lastSlot} from shard ${move.from} to shard ${move.to}`,
      );
    } finally {
      this.moving.delete(session);
      session.close();
    }
  }

  /** One `repoint` step in the group that gave the slots away; a refusal (the group's records changed) fails it. */
  private async repointSlots(
    r: Extract<ExecRequest, { kind: 'repointSlots' }>,
    adminAddresses: ReadonlyMap<number, readonly string[]>,
  ): Promise<void> {
    const session = this.slotGroups(adminAddresses);
    try {
      const outcome = await withTimeout(
        session.groups.step(r.shard, 'repoint', r.slots, r.owner, r.epoch),
        this.moveLimits.timeoutMs,
        `pointing ${r.slots.length} slot(s) of shard ${r.shard} at shard ${r.owner}`,
      );
      if (!outcome.ok) {
        throw new ExecutorError(
          `shard ${r.shard} refused to point ${r.slots.length} slot(s) at shard ${r.owner}: ${outcome.reason}`,
        );
      }
    } finally {
      session.close();
    }
  }

  /**
   * Ends every batch moving now (its next call to a group fails) and refuses new ones. For a replica that is about
   * to give up, or has lost, its Lease: a move must not go on beside the next leader's. The groups' records keep
   * each batch where it stopped, and the next leader resumes it at its epoch.
   */
  stopMoves(): void {
    this.movesStopped = true;
    for (const session of this.moving) session.close();
  }

  /** Events are best effort: a failed Event must not fail the step it reports. */
  /** A Warning Event about a decision that took no step (a refused version); never fails the reconcile. */
  async emitWarning(cluster: RaftCluster, reason: string, action: string, note: string): Promise<void> {
    await this.emit(cluster, { type: 'Warning', reason, action, note });
  }

  private async emit(cluster: RaftCluster, event: EventSpec): Promise<void> {
    try {
      await this.kube.createEvent(cluster, event);
    } catch (err) {
      this.onEventError(`${event.reason}: ${errorMessage(err)}`);
    }
  }

  private async perform(
    cluster: RaftCluster,
    r: ExecRequest,
    adminAddresses: ReadonlyMap<number, readonly string[]>,
  ): Promise<{ moved?: MoveReport; forced?: QuorumRecovery } | undefined> {
    switch (r.kind) {
      case 'apply':
        await this.kube.apply(r.object);
        return undefined;
      case 'delete':
        await this.kube.delete(r.resource, r.namespace, r.name, r.uid);
        return undefined;
      case 'addLearner':
        await this.onMembers(cluster, r.shard, adminAddresses, 'AddLearner', (a) =>
          this.admin.addLearner(a, r.req),
        );
        return undefined;
      case 'promote':
        await this.onMembers(cluster, r.shard, adminAddresses, 'Promote', (a) =>
          this.admin.promote(a, r.shard, r.id),
        );
        return undefined;
      case 'removeMember':
        await this.onMembers(cluster, r.shard, adminAddresses, 'RemoveMember', (a) =>
          this.admin.removeMember(a, r.shard, r.id),
        );
        return undefined;
      case 'transferLeadership':
        await this.onMembers(cluster, r.shard, adminAddresses, 'TransferLeadership', async (a) => {
          await this.admin.transferLeadership(a, r.shard, r.toId);
        });
        return undefined;
      case 'moveSlots':
        return { moved: await this.moveSlots(r.move, adminAddresses) };
      case 'repointSlots':
        await this.repointSlots(r, adminAddresses);
        return undefined;
      case 'resizeClaim':
        await this.kube.resizeClaim(r.namespace, r.name, r.size, r.uid);
        return undefined;
      case 'recreateStatefulSet':
        await this.kube.recreateStatefulSet(r.object, r.uid);
        return undefined;
      case 'setDataFormat':
        await this.onMembers(cluster, r.shard, adminAddresses, 'SetDataFormat', async (a) => {
          await this.admin.setDataFormat(a, r.shard, r.format);
        });
        return undefined;
      case 'forceNewCluster': {
        // That member only: forcing another one would keep other data than the planner chose.
        const kept = await this.admin.forceNewCluster(r.address, r.shard, r.member);
        return {
          forced: {
            token: r.token,
            shard: r.shard,
            member: r.member,
            commit: kept.commit,
            lastIndex: kept.lastIndex,
            lastLogTerm: kept.lastLogTerm,
            at: this.now().toISOString(),
          },
        };
      }
    }
  }

  private async onMembers(
    cluster: RaftCluster,
    shard: number,
    adminAddresses: ReadonlyMap<number, readonly string[]>,
    what: string,
    call: (address: string) => Promise<void>,
  ): Promise<void> {
    const addresses = (adminAddresses.get(shard) ?? []).slice(0, this.adminAttempts);
    if (addresses.length === 0) {
      throw new ExecutorError(
        `${what} on ${cluster.metadata.name} shard ${shard}: no member address to call`,
      );
    }
    const errors: string[] = [];
    for (const address of addresses) {
      try {
        return await call(address);
      } catch (err) {
        errors.push(errorMessage(err));
        if (err instanceof AdminError && !err.transient) break;
      }
    }
    throw new ExecutorError(
      `${what} on ${cluster.metadata.name} shard ${shard} failed: ${errors.join('; ')}`,
    );
  }
}
