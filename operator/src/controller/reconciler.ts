// Reconcile one RaftCluster, level-based: read the world (informer caches + the members' admin API), plan one
// step, record the operation in status BEFORE acting, act, then write the whole status if it changed. Returns when
// to look again; throws on a failure worth retrying with backoff.
import type { Logger } from 'pino';
import type { QuorumRecovery, RaftCluster, RaftClusterStatus } from '../api/raftcluster.js';
import type { AdminApi } from '../admin/admin-api.js';
import type { Executor, KubeWriter } from '../executor/executor.js';
import { deepEqual, mergePatch } from '../executor/merge-patch.js';
import { InvalidObjectError, parseRaftCluster, withNodeImage } from '../kube/parse.js';
import { splitKey } from '../kube/informers.js';
import type { OperatorMetrics } from '../metrics/metrics.js';
import type { ClusterObjects } from '../observer/map.js';
import { observe, type ObserverOptions, type VolumeNodes } from '../observer/observer.js';
import { plan, type PlannerOptions } from '../planner/plan.js';
import { effectiveCluster } from '../planner/version-policy.js';
import { buildStatus, statusChanged } from '../status/status.js';
import { errorMessage } from '../util/timeout.js';
import { expectationFor, type Expectation } from './expectations.js';

/** Where the reconciler reads the cluster and its children (the informer caches). */
export interface ClusterSource {
  cluster(namespace: string, name: string): unknown;
  objectsFor(namespace: string, clusterName: string): ClusterObjects;
}

export interface ReconcilerDeps {
  source: ClusterSource;
  admin: AdminApi;
  kube: KubeWriter;
  executor: Executor;
  metrics: OperatorMetrics;
  log: Logger;
  now: () => Date;
  planner: PlannerOptions;
  observer: ObserverOptions;
  /** Where volumes live, to tell a pod whose volume's node is gone; without it none is ever judged lost. */
  volumes?: VolumeNodes;
  nodeImageRepository: string;
  /** Requeue this soon after an executed step, to see its effect (admin changes raise no Kubernetes event). */
  afterActionMs: number;
  /** How long to wait for the cache to show our own last write before planning anyway, and how often to look. */
  expectationTimeoutMs: number;
  expectationPollMs: number;
}

export type Outcome =
  | { result: 'success'; requeueAfterMs: number | undefined; action: string }
  | { result: 'requeue'; requeueAfterMs: number; action: string }
  | { result: 'terminal'; requeueAfterMs: undefined; action: string; error: string };

/** Our last status write per key, and the cached resourceVersion it was based on. */
interface Written {
  baseResourceVersion: string;
  status: RaftClusterStatus;
}

export class Reconciler {
  private readonly written = new Map<string, Written>();
  private readonly expected = new Map<string, { expectation: Expectation; deadlineMs: number }>();

  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<Outcome> {
    const { namespace, name } = splitKey(key);
    const d = this.deps;
    const raw = d.source.cluster(namespace, name);
    if (raw === undefined) {
      // Deleted: owner references let the garbage collector remove the children; PVCs follow the StatefulSet's
      // persistentVolumeClaimRetentionPolicy.whenDeleted (spec.pvcRetention.whenDeleted). Nothing to do here.
      this.written.delete(key);
      this.expected.delete(key);
      d.metrics.forgetCluster(namespace, name);
      return { result: 'success', requeueAfterMs: undefined, action: 'Deleted' };
    }
    let cluster: RaftCluster;
    try {
      cluster = withNodeImage(parseRaftCluster(raw), d.nodeImageRepository);
    } catch (err) {
      if (!(err instanceof InvalidObjectError)) throw err;
      // Retrying cannot fix the object; an edit (new generation) queues it again.
      return { result: 'terminal', requeueAfterMs: undefined, action: 'Invalid', error: err.message };
    }
    if ((raw as { metadata?: { deletionTimestamp?: unknown } }).metadata?.deletionTimestamp != null) {
      return { result: 'success', requeueAfterMs: undefined, action: 'Deleting' };
    }

    // The cache may not have caught up with our own last status write yet: then that write is the truth.
    const rv = (raw as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion ?? '';
    const mine = this.written.get(key);
    let status = mine !== undefined && mine.baseResourceVersion === rv ? mine.status : cluster.status;
    cluster = { ...cluster, ...(status !== undefined ? { status } : {}) };

    const objects = d.source.objectsFor(namespace, name);
    const pending = this.expected.get(key);
    if (pending !== undefined) {
      if (pending.expectation.satisfied(objects)) {
        this.expected.delete(key);
      } else if (d.now().getTime() < pending.deadlineMs) {
        return { result: 'requeue', requeueAfterMs: d.expectationPollMs, action: 'AwaitCache' };
      } else {
        this.expected.delete(key);
        d.log.warn(
          { cluster: name, namespace, expected: pending.expectation.what },
          'the cache never showed our last write; planning anyway',
        );
      }
    }
    const observation = await observe(cluster, objects, d.admin, d.observer, d.volumes);
    const now = d.now();
    const log = d.log.child({ cluster: name, namespace });
    const p = plan(observation.observed, now, d.planner);
    const refusedBefore = status?.conditions?.find((c) => c.type === 'VersionAccepted');
    if (!p.version.accepted && refusedBefore?.message !== p.version.message) {
      log.warn({ reason: p.version.reason }, p.version.message);
      await d.executor.emitWarning(cluster, 'VersionRefused', 'JudgeVersion', p.version.message);
    }
    // A refused version is not rolled out: the executor and the status act on the version the members run.
    cluster = effectiveCluster(cluster, p.version);
    const observed = { ...observation.observed, cluster };
    const acting = p.action.type !== 'Wait' && p.action.type !== 'Done';

    let failure: Error | undefined;
    let forced: QuorumRecovery | undefined;
    if (acting) {
      // Intent first: after a crash between here and the next status write, status says what was attempted.
      if (!deepEqual(status?.operation, p.operation)) {
        const patch = mergePatch({ operation: status?.operation }, { operation: p.operation });
        if (patch !== undefined) {
          await d.kube.patchStatus(namespace, name, patch);
          status = { ...status, operation: p.operation };
          if (p.operation === undefined) delete status.operation;
          this.written.set(key, { baseResourceVersion: rv, status });
        }
      }
      log.info(
        { action: p.action, operation: p.operation },
        `step: ${p.operation?.message ?? p.action.type}`,
      );
      try {
        const done = await d.executor.execute(
          cluster,
          p.action,
          p.operation,
          objects,
          observation.adminAddresses,
        );
        d.metrics.actions.inc({ action: p.action.type, result: 'success' });
        if (done.moved !== undefined) d.metrics.recordSlotMove(namespace, name, done.moved);
        forced = done.forced;
        const expectation = expectationFor(done.requests);
        if (expectation !== undefined) {
          this.expected.set(key, { expectation, deadlineMs: d.now().getTime() + d.expectationTimeoutMs });
        }
      } catch (err) {
        failure = err instanceof Error ? err : new Error(errorMessage(err));
        d.metrics.actions.inc({ action: p.action.type, result: 'error' });
        log.warn({ action: p.action.type, err: errorMessage(err) }, 'step failed; will retry with backoff');
      }
    } else if (p.action.type === 'Wait') {
      log.debug({ reason: p.action.reason }, 'waiting');
    }

    const next = buildStatus(observed, p, now, failure?.message, forced);
    if (statusChanged(status, next)) {
      const patch = mergePatch(status ?? {}, next);
      if (patch !== undefined) {
        await d.kube.patchStatus(namespace, name, patch);
        this.written.set(key, { baseResourceVersion: rv, status: next });
        if (status?.health !== next.health) {
          log.info({ health: next.health, previous: status?.health }, `health ${next.health}`);
        }
      }
    }
    d.metrics.recordCluster(namespace, name, next);

    if (failure !== undefined) throw failure;
    switch (p.action.type) {
      case 'Done':
        return { result: 'success', requeueAfterMs: p.action.requeueAfterSeconds * 1000, action: 'Done' };
      case 'Wait':
        return { result: 'requeue', requeueAfterMs: p.action.requeueAfterSeconds * 1000, action: 'Wait' };
      default:
        return { result: 'requeue', requeueAfterMs: d.afterActionMs, action: p.action.type };
    }
  }
}
