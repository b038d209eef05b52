import { pino } from 'pino';
import type { RaftCluster, RaftClusterStatus } from '../api/raftcluster.js';
import { Executor } from '../executor/executor.js';
import { applyMergePatch, type Json } from '../executor/merge-patch.js';
import { OperatorMetrics } from '../metrics/metrics.js';
import type { ClusterObjects } from '../observer/map.js';
import { DEFAULT_OBSERVER } from '../observer/observer.js';
import { DEFAULT_PLANNER_OPTIONS } from '../planner/plan.js';
import { ExponentialBackoff, RateLimiter, TokenBucket } from '../queue/rate-limit.js';
import { WorkQueue, type Timers } from '../queue/work-queue.js';
import {
  FakeAdmin,
  FakeKube,
  testCluster,
  testMember,
  testObjects,
  testStatus,
} from '../../testing/fakes.js';
import { Controller } from './controller.js';
import { Reconciler, type ClusterSource, type Outcome } from './reconciler.js';

const silent = pino({ level: 'silent' });

/** The informer caches as a plain object; status patches are applied to the stored cluster like the API server does. */
class MemorySource implements ClusterSource {
  rv = 1;
  constructor(
    public raw: RaftCluster | undefined,
    public objects: ClusterObjects,
  ) {}
  cluster(): unknown {
    return this.raw === undefined
      ? undefined
      : { ...this.raw, metadata: { ...this.raw.metadata, resourceVersion: String(this.rv) } };
  }
  objectsFor(): ClusterObjects {
    return this.objects;
  }
  applyStatus(patch: Json): void {
    this.raw = { ...this.raw!, status: applyMergePatch(this.raw!.status ?? {}, patch) as RaftClusterStatus };
    this.rv += 1;
  }
}

function setup(
  raw: RaftCluster | undefined,
  objects: ClusterObjects,
  admin = new FakeAdmin(),
  clock = { now: new Date('2026-03-01T10:00:00Z') },
) {
  const kube = new FakeKube();
  const source = new MemorySource(raw, objects);
  const metrics = new OperatorMetrics();
  const reconciler = new Reconciler({
    source,
    admin,
    kube,
    executor: new Executor(kube, admin),
    metrics,
    log: silent,
    now: () => clock.now,
    planner: DEFAULT_PLANNER_OPTIONS,
    observer: DEFAULT_OBSERVER,
    nodeImageRepository: 'raftstore/node',
    afterActionMs: 1000,
    expectationTimeoutMs: 30_000,
    expectationPollMs: 250,
  });
  return { kube, source, metrics, reconciler, admin, clock };
}

function healthyAdmin(leaderOnly = false): FakeAdmin {
  const admin = new FakeAdmin();
  for (let o = 0; o < 3; o++)
    admin.statuses.set(
      `10.244.1.${10 + o}:2379`,
      testStatus(`demo-${o}`, { role: o === 0 ? 'leader' : 'follower' }),
    );
  if (!leaderOnly)
    admin.memberLists.set('10.244.1.10:2379', [
      testMember('demo-0', { role: 'leader' }),
      testMember('demo-1'),
      testMember('demo-2'),
    ]);
  return admin;
}

/** Past bootstrap: the StatefulSet says new pods join an existing cluster. */
function converged(objects: ClusterObjects): ClusterObjects {
  const env = objects.statefulSets[0]!.spec!.template.spec!.containers[0]!.env!;
  env.find((e) => e.name === 'RAFTSTORE_INITIAL_CLUSTER_STATE')!.value = 'existing';
  return objects;
}

describe('Reconciler', () => {
  test('a new cluster: the operation is recorded in status BEFORE the children are applied, then the status', async () => {
    const cluster = testCluster();
    const { kube, reconciler } = setup(cluster, {
      statefulSets: [],
      pods: [],
      pvcs: [],
      services: [],
      pdbs: [],
      serviceAccounts: [],
    });
    const out = await reconciler.reconcile('db/demo');
    expect(out).toEqual({ result: 'requeue', requeueAfterMs: 1000, action: 'ApplyChildren' });
    expect(kube.log[0]).toMatch(/^status \{"operation":\{"type":"Bootstrap","step":"ApplyChildren"/);
    expect(kube.log.slice(1, 7)).toEqual([
      'apply ServiceAccount demo-node',
      'apply Service demo-peer',
      'apply Service demo',
      'apply Service demo-shard-0',
      'apply PodDisruptionBudget demo',
      'apply StatefulSet demo',
    ]);
    expect(kube.log[7]).toBe('event Creating');
    const final = kube.statusPatches.at(-1) as {
      health: string;
      observedGeneration: number;
      conditions: { type: string; status: string }[];
    };
    expect(final.health).toBe('unknown');
    expect(final.observedGeneration).toBe(2);
    expect(final.conditions.find((c) => c.type === 'Available')?.status).toBe('Unknown');
  });

  test('a healthy, converged cluster: Done, one status write, then no write while nothing changes', async () => {
    const cluster = testCluster();
    const objects = converged(testObjects(cluster, 3));
    const { kube, source, reconciler, metrics } = setup(cluster, objects, healthyAdmin());
    const out = await reconciler.reconcile('db/demo');
    // The health probe: a converged cluster is looked at again in 5 s.
    expect(out).toEqual({ result: 'success', requeueAfterMs: 5_000, action: 'Done' });
    expect(kube.applied).toEqual([]);
    expect(kube.statusPatches).toHaveLength(1);
    const written = kube.statusPatches[0] as { health: string; leader: string; members: unknown[] };
    expect(written).toMatchObject({ health: 'healthy', leader: 'demo-0', faultTolerance: 1 });
    expect(written.members).toHaveLength(3);
    // The API server applies it; the next reconcile (cache caught up) writes nothing.
    source.applyStatus(kube.statusPatches[0]!);
    await reconciler.reconcile('db/demo');
    expect(kube.statusPatches).toHaveLength(1);
    expect(await metrics.registry.getSingleMetricAsString('raftstore_operator_cluster_health')).toMatch(
      /raftstore_operator_cluster_health\{namespace="db",cluster="demo",health="healthy"\} 1/,
    );
  });

  test('a stale cache (our write not seen yet) does not make conditions move again', async () => {
    const cluster = testCluster();
    const objects = converged(testObjects(cluster, 3));
    const { kube, reconciler } = setup(cluster, objects, healthyAdmin());
    await reconciler.reconcile('db/demo');
    await reconciler.reconcile('db/demo'); // the source still has the old resourceVersion and no status
    expect(kube.statusPatches).toHaveLength(1);
  });

  test('nobody answers: health unknown with the reason, Available Unknown; never healthy', async () => {
    const old: RaftClusterStatus = { health: 'healthy', lastProbeTime: '2026-03-01T09:00:00Z' };
    const cluster = testCluster({}, old);
    const { kube, reconciler } = setup(cluster, testObjects(cluster, 3), new FakeAdmin());
    const out = await reconciler.reconcile('db/demo');
    expect(out.result).toBe('requeue');
    const s = kube.statusPatches.at(-1) as {
      health: string;
      lastProbeTime?: string;
      conditions: { type: string; status: string; message: string }[];
    };
    expect(s.health).toBe('unknown');
    expect(s.lastProbeTime).toBeUndefined(); // unchanged: the last time a member was reached
    const available = s.conditions.find((c) => c.type === 'Available')!;
    expect(available.status).toBe('Unknown');
    expect(available.message).toMatch(/no member answered .*last reached at 2026-03-01T09:00:00Z/);
  });

  test('a failing step: status is still written, then the error propagates for a retry', async () => {
    const cluster = testCluster();
    const { kube, reconciler } = setup(cluster, {
      statefulSets: [],
      pods: [],
      pvcs: [],
      services: [],
      pdbs: [],
      serviceAccounts: [],
    });
    kube.applyError = new Error('apply ServiceAccount db/demo-node: HTTP 403: forbidden');
    await expect(reconciler.reconcile('db/demo')).rejects.toThrow(/403/);
    expect(kube.statusPatches.length).toBe(2);
    expect(kube.events.map((e) => e.reason)).toEqual(['StepFailed']);
    // The refusal is in a condition at once, not only in an Event.
    const written = JSON.stringify(kube.statusPatches[1]);
    expect(written).toContain('StepFailing');
    expect(written).toContain('HTTP 403: forbidden');
  });

  test('a failing status write fails the reconcile before acting', async () => {
    const cluster = testCluster();
    const { kube, reconciler } = setup(cluster, {
      statefulSets: [],
      pods: [],
      pvcs: [],
      services: [],
      pdbs: [],
      serviceAccounts: [],
    });
    kube.statusError = new Error('patch status: timeout');
    await expect(reconciler.reconcile('db/demo')).rejects.toThrow(/timeout/);
    expect(kube.applied).toEqual([]);
  });

  test('deleted: nothing to do (garbage collection); invalid: terminal, not retried', async () => {
    const gone = setup(undefined, testObjects(testCluster(), 0));
    expect(await gone.reconciler.reconcile('db/demo')).toEqual({
      result: 'success',
      requeueAfterMs: undefined,
      action: 'Deleted',
    });
    const bad = { ...testCluster(), spec: { ...testCluster().spec, replicas: 0 } };
    const invalid = setup(bad, testObjects(bad, 0));
    const out = await invalid.reconciler.reconcile('db/demo');
    expect(out).toMatchObject({
      result: 'terminal',
      error: expect.stringMatching(/spec\.replicas must be an integer in 1\.\.9/) as unknown,
    });
    expect(invalid.kube.log).toEqual([]);
  });

  test('the configured node image repository is used for clusters naming only a version', async () => {
    const cluster = testCluster();
    const { kube, reconciler } = setup(cluster, {
      statefulSets: [],
      pods: [],
      pvcs: [],
      services: [],
      pdbs: [],
      serviceAccounts: [],
    });
    (reconciler as unknown as { deps: { nodeImageRepository: string } }).deps.nodeImageRepository =
      'reg.example/node';
    await reconciler.reconcile('db/demo');
    const sts = kube.applied.find((o) => o.kind === 'StatefulSet') as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(sts.spec.template.spec.containers[0]!.image).toBe('reg.example/node:1.0.0');
  });
});

describe('Reconciler expectations (the cache catching up with our own writes)', () => {
  function upgrading() {
    const cluster = testCluster({ version: '2.0.0' }); // StatefulSet already at 2.0.0, pods still at 1.0.0
    return setup(cluster, converged(testObjects(cluster, 3)), healthyAdmin());
  }

  test('after a pod delete, nothing is planned until the cache shows the pod going', async () => {
    const { kube, source, reconciler, admin } = upgrading();
    expect(await reconciler.reconcile('db/demo')).toMatchObject({ result: 'requeue', action: 'DeletePod' });
    expect(kube.deleted).toEqual(['pods db/demo-2 uid=pod-uid-demo-2']);
    const calls = admin.calls.length;
    // The cache still shows demo-2 running: a second restart must not be planned from this picture.
    expect(await reconciler.reconcile('db/demo')).toEqual({
      result: 'requeue',
      requeueAfterMs: 250,
      action: 'AwaitCache',
    });
    expect(kube.deleted).toHaveLength(1);
    expect(admin.calls.length).toBe(calls);
    // The cache catches up: the planner runs again (and waits for demo-2 to come back).
    source.objects.pods[2]!.metadata!.deletionTimestamp = new Date();
    const out = await reconciler.reconcile('db/demo');
    expect(out.action).toBe('Wait');
    expect(kube.deleted).toHaveLength(1);
  });

  test('bounded: if the cache never shows it, planning resumes after the timeout', async () => {
    const { kube, reconciler, clock } = upgrading();
    await reconciler.reconcile('db/demo');
    expect((await reconciler.reconcile('db/demo')).action).toBe('AwaitCache');
    clock.now = new Date(clock.now.getTime() + 30_001);
    expect((await reconciler.reconcile('db/demo')).action).not.toBe('AwaitCache');
    expect(kube.deleted.length).toBeGreaterThanOrEqual(1);
  });

  test('admin-only steps leave no expectation', async () => {
    const cluster = testCluster({ replicas: 2 });
    const { reconciler } = setup(cluster, converged(testObjects(testCluster(), 3)), healthyAdmin());
    // 3 members, 2 wanted: the first step removes demo-2 from Raft (an admin call)
    expect((await reconciler.reconcile('db/demo')).action).toBe('RemoveMember');
    expect((await reconciler.reconcile('db/demo')).action).not.toBe('AwaitCache');
  });
});

describe('Controller', () => {
  const noTimers: Timers = { setTimeout: () => 0, clearTimeout: () => undefined };
  function queue(): WorkQueue {
    const clock = { nowMs: () => 0 };
    return new WorkQueue(clock, noTimers, new RateLimiter(new ExponentialBackoff(), new TokenBucket(clock)));
  }

  test('success requeues after the delay and resets the backoff; errors back off; terminal is not retried', async () => {
    const q = queue();
    const outcomes: (Outcome | Error)[] = [
      new Error('boom'),
      new Error('boom'),
      { result: 'requeue', requeueAfterMs: 5000, action: 'Wait' },
      { result: 'terminal', requeueAfterMs: undefined, action: 'Invalid', error: 'bad spec' },
    ];
    const metrics = new OperatorMetrics();
    const c = new Controller(
      q,
      {
        reconcile: () => {
          const o = outcomes.shift()!;
          return o instanceof Error ? Promise.reject(o) : Promise.resolve(o);
        },
      },
      metrics,
      silent,
      1,
    );
    const step = async (): Promise<void> => {
      q.add('db/demo');
      const k = await q.get();
      await c.processOne(k!);
    };
    await step();
    expect(q.failures('db/demo')).toBe(1);
    expect(q.delayedLen()).toBe(1);
    await step();
    expect(q.failures('db/demo')).toBe(2);
    await step();
    expect(q.failures('db/demo')).toBe(0);
    expect(q.delayedLen()).toBe(1);
    await step();
    expect(q.delayedLen()).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('raftstore_operator_reconciles_total')).toMatch(
      /result="error"\} 2/,
    );
  });

  test('stop: workers return once the queue shuts down', async () => {
    const q = queue();
    const c = new Controller(
      q,
      { reconcile: () => Promise.resolve({ result: 'success', requeueAfterMs: undefined, action: 'Done' }) },
      new OperatorMetrics(),
      silent,
      2,
    );
    c.start();
    q.add('a/b');
    expect(await c.stop(1000)).toBe(true);
  });
});
