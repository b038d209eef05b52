#!/usr/bin/env node
// The operator process: in a pod it uses its service account; out of cluster, KUBECONFIG (or ~/.kube/config), e.g.
//   RAFTSTORE_OPERATOR_LEADER_ELECTION=false npx tsx operator/src/main.ts
// Wiring only: informers feed the work queue, workers reconcile while this replica holds the Lease, /metrics and
// /livez + /readyz are served, and SIGTERM shuts everything down in order (workers, Lease release, informers).
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ObservabilityHttpServer, type Readiness } from '../../node/shared/http/http-server.js';
import { DEFAULT_GRPC_ADMIN, GrpcAdminApi } from './admin/admin-api.js';
import { ConfigError, parseConfig, type OperatorConfig } from './config/config.js';
import { Controller } from './controller/controller.js';
import { Reconciler } from './controller/reconciler.js';
import { LeaderElector } from './election/lease.js';
import { Executor } from './executor/executor.js';
import { KubeApiWriter, KubeLeaseStore, KubeVolumeNodes } from './kube/api.js';
import { RECOVER_QUORUM_LOSS_ANNOTATION } from './api/raftcluster.js';
import { Informers, keyOf, type ResourceKind } from './kube/informers.js';
import { createLogger } from './log.js';
import { OperatorMetrics } from './metrics/metrics.js';
import { DEFAULT_OBSERVER } from './observer/observer.js';
import { DEFAULT_PLANNER_OPTIONS } from './planner/plan.js';
import { ExponentialBackoff, RateLimiter, TokenBucket } from './queue/rate-limit.js';
import { monotonicClock, realTimers, WorkQueue } from './queue/work-queue.js';
import { errorMessage, sleep } from './util/timeout.js';

const SHUTDOWN_WORKERS_MS = 20_000;
/** After stopping the moves of reconciles that would not finish: their next group call fails at once. */
const SHUTDOWN_MOVES_MS = 3_000;
const SHUTDOWN_TOTAL_MS = 28_000; // under the chart's terminationGracePeriodSeconds (30)

function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  // KUBECONFIG, then ~/.kube/config, then the pod's service account.
  kc.loadFromDefault();
  if (kc.getCurrentCluster() === null) {
    throw new ConfigError(
      'no Kubernetes cluster configured: set KUBECONFIG, or run in a pod with a service account',
    );
  }
  return kc;
}

async function run(config: OperatorConfig, log: Logger): Promise<number> {
  const kc = loadKubeConfig();
  log.info(
    {
      server: kc.getCurrentCluster()?.server,
      namespaces: config.watchNamespaces.length === 0 ? '*' : config.watchNamespaces,
      identity: config.leaderElection.identity,
      leaderElection: config.leaderElection.enabled,
    },
    'raftstore operator starting',
  );
  const metrics = new OperatorMetrics({ defaultMetrics: true });
  const queue = new WorkQueue(
    monotonicClock,
    realTimers,
    new RateLimiter(new ExponentialBackoff(), new TokenBucket(monotonicClock)),
  );
  const generations = new Map<string, string>();
  const onChange = (kind: ResourceKind, verb: 'add' | 'update' | 'delete', obj: KubernetesObject): void => {
    if (kind === 'storageclasses') {
      // A class that now allows expansion (or no longer does) concerns every cluster whose volumes it holds.
      for (const c of informers.clusters()) onChange('raftclusters', 'add', c);
      return;
    }
    const key = keyOf(kind, obj);
    if (key === undefined) return;
    if (kind === 'raftclusters') {
      // Our own status writes do not change the generation: no reconcile for them (GenerationChangedPredicate). The
      // quorum-loss recovery annotation is metadata, not spec: a change to it counts as a change too.
      const gen = `${String(obj.metadata?.generation)}/${obj.metadata?.annotations?.[RECOVER_QUORUM_LOSS_ANNOTATION] ?? ''}`;
      const deleting = obj.metadata?.deletionTimestamp != null;
      if (verb === 'update' && generations.get(key) === gen && !deleting) return;
      if (verb === 'delete') generations.delete(key);
      else generations.set(key, gen);
    }
    if (!queue.add(key)) log.error({ key }, 'work queue refused a key (bound reached)');
  };
  const informers = new Informers(
    kc,
    config.watchNamespaces,
    {
      onChange,
      onError: (kind) => metrics.informerErrors.inc({ kind }),
    },
    log,
  );
  const admin = new GrpcAdminApi({ ...DEFAULT_GRPC_ADMIN, timeoutMs: config.adminTimeoutMs });
  const kube = new KubeApiWriter(kc, config.apiTimeoutMs, config.leaderElection.identity);
  const executor = new Executor(kube, admin, 3, (err) => log.warn({ err }, 'could not record an Event'));
  const reconciler = new Reconciler({
    source: informers,
    admin,
    kube,
    executor,
    metrics,
    log,
    now: () => new Date(),
    planner: DEFAULT_PLANNER_OPTIONS,
    observer: { ...DEFAULT_OBSERVER, concurrency: config.adminConcurrency },
    volumes: new KubeVolumeNodes(kc, config.apiTimeoutMs),
    nodeImageRepository: config.nodeImageRepository,
    afterActionMs: 1000,
    expectationTimeoutMs: 30_000,
    expectationPollMs: 250,
  });
  const controller = new Controller(queue, reconciler, metrics, log, config.workers);

  const readiness = (): Readiness => {
    const unsynced = informers.unsynced();
    return {
      ready: unsynced.length === 0,
      checks: [
        {
          name: 'informers-synced',
          ok: unsynced.length === 0,
          message: unsynced.length === 0 ? 'all caches synced' : `not synced: ${unsynced.join(', ')}`,
        },
      ],
    };
  };
  let leading = !config.leaderElection.enabled;
  const statusJson = (): unknown => ({
    identity: config.leaderElection.identity,
    leading,
    queueDepth: queue.len(),
    delayed: queue.delayedLen(),
    inProgress: queue.inProgress(),
    informerRestarts: informers.restarts(),
    unsynced: informers.unsynced(),
  });
  const same =
    config.metricsListen.host === config.healthListen.host &&
    config.metricsListen.port === config.healthListen.port;
  const servers = [
    new ObservabilityHttpServer({
      ...config.metricsListen,
      live: () => true,
      readiness,
      metrics: metrics.registry,
      status: statusJson,
      logger: log,
    }),
    ...(same
      ? []
      : [
          new ObservabilityHttpServer({
            ...config.healthListen,
            live: () => true,
            readiness,
            metrics: metrics.registry,
            status: statusJson,
            logger: log,
          }),
        ]),
  ];
  for (const s of servers) {
    const bound = await s.start();
    log.info({ host: bound.host, port: bound.port }, 'http listening');
  }

  const stopElection = new AbortController();
  let exitCode = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  let shuttingDown = false;
  const shutdown = (reason: string, code: number): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    exitCode = code;
    log.info({ reason }, 'shutting down');
    resolveDone();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));

  await informers.start();
  const resync = setInterval(() => {
    for (const c of informers.clusters()) {
      const key = keyOf('raftclusters', c);
      if (key !== undefined) queue.add(key);
    }
  }, config.resyncSeconds * 1000);
  resync.unref();

  const startLeading = (): void => {
    leading = true;
    metrics.isLeader.set(1);
    log.info({ identity: config.leaderElection.identity }, 'leading: reconciling');
    controller.start();
  };

  let elector: LeaderElector | undefined;
  let electionRun: Promise<void> = Promise.resolve();
  if (config.leaderElection.enabled) {
    const le = config.leaderElection;
    elector = new LeaderElector(
      new KubeLeaseStore(
        kc,
        le.leaseName,
        le.leaseNamespace,
        Math.min(config.apiTimeoutMs, le.renewDeadlineSeconds * 1000),
      ),
      le.identity,
      le,
      { nowMs: () => performance.now(), nowIso: () => new Date().toISOString() },
      sleep,
      {
        onStartedLeading: startLeading,
        // Stop reconciling at once; the process exits and restarts as a candidate (controller-runtime does the same).
        onStoppedLeading: (reason) => {
          leading = false;
          metrics.isLeader.set(0);
          log.error({ reason }, 'lost leadership');
          // Another replica may lead already: a batch moving here must not go on beside its moves.
          executor.stopMoves();
          shutdown(`lost leadership: ${reason}`, 1);
        },
        onAttemptFailed: (error) => log.warn({ err: error }, 'leader election attempt failed'),
      },
    );
    log.info({ lease: `${le.leaseNamespace}/${le.leaseName}` }, 'waiting for leadership');
    electionRun = elector.run(stopElection.signal).catch((err: unknown) => {
      log.error({ err: errorMessage(err) }, 'leader election loop failed');
      shutdown('leader election failed', 1);
    });
  } else {
    startLeading();
  }

  await done;
  const hardStop = setTimeout(() => {
    log.error('shutdown took too long; exiting');
    process.exit(exitCode === 0 ? 1 : exitCode);
  }, SHUTDOWN_TOTAL_MS);
  hardStop.unref();
  clearInterval(resync);
  // Reconciles finish while this replica still renews its Lease (a batch of slots moving now usually takes well under
  // a second), so no standby can lead beside them. One that would not finish in time has its moves stopped before
  // the Lease goes: the next leader resumes each batch from the groups' records.
  let drained = await controller.stop(SHUTDOWN_WORKERS_MS);
  if (!drained) {
    executor.stopMoves();
    drained = await controller.stop(SHUTDOWN_MOVES_MS);
    if (!drained) log.warn('reconciles still running at shutdown');
  }
  stopElection.abort();
  await electionRun;
  if (elector !== undefined && (await elector.release())) log.info('released the Lease');
  metrics.isLeader.set(0);
  await informers.stop();
  admin.close();
  await Promise.all(servers.map((s) => s.close()));
  log.info({ exitCode }, 'stopped');
  return exitCode;
}

async function main(): Promise<void> {
  let config: OperatorConfig;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    process.stderr.write(`raftstore-operator: ${errorMessage(err)}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel);
  try {
    process.exitCode = await run(config, log);
  } catch (err) {
    log.fatal({ err: errorMessage(err) }, 'operator failed');
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  }
  // Lingering handles (gRPC channels, keep-alive sockets) must not keep a stopped operator alive.
  setTimeout(() => process.exit(), 100).unref();
}

await main();
