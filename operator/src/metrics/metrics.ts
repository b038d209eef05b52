// The operator's Prometheus metrics, on a registry of its own (never prom-client's global one, so two instances in
// one test process do not collide).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { HEALTH_VALUES, OPERATION_TYPES, type RaftClusterStatus } from '../api/raftcluster.js';
import type { MoveReport } from '../../../node/shared/sharding/move-driver.js';

export type ReconcileResult = 'success' | 'requeue' | 'error' | 'terminal';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<'result'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly clusterHealth: Gauge<'namespace' | 'cluster' | 'health'>;
  readonly clusterMembers: Gauge<'namespace' | 'cluster' | 'state'>;
  readonly operationsInProgress: Gauge<'namespace' | 'cluster' | 'type'>;
  readonly actions: Counter<'action' | 'result'>;
  readonly isLeader: Gauge;
  readonly informerErrors: Counter<'kind'>;
  readonly slotBatches: Counter<'namespace' | 'cluster'>;
  readonly slotKeysCopied: Counter<'namespace' | 'cluster'>;
  readonly slotMovePause: Histogram<'namespace' | 'cluster'>;

  constructor(options: { defaultMetrics: boolean } = { defaultMetrics: false }) {
    const registers = [this.registry];
    this.reconciles = new Counter({
      name: 'raftstore_operator_reconciles_total',
      help: 'Reconciles by result: success (done), requeue (waiting on something), error (retried with backoff), terminal (not retried).',
      labelNames: ['result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'raftstore_operator_reconcile_duration_seconds',
      help: 'Time per reconcile, admin probes included.',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'raftstore_operator_queue_depth',
      help: 'Cluster keys waiting for a worker.',
      registers,
    });
    this.clusterHealth = new Gauge({
      name: 'raftstore_operator_cluster_health',
      help: 'One-hot health of each RaftCluster (1 for its current health).',
      labelNames: ['namespace', 'cluster', 'health'],
      registers,
    });
    this.clusterMembers = new Gauge({
      name: 'raftstore_operator_cluster_members',
      help: 'Members of each RaftCluster (all shards): voters, healthy_voters, learners.',
      labelNames: ['namespace', 'cluster', 'state'],
      registers,
    });
    this.operationsInProgress = new Gauge({
      name: 'raftstore_operator_operations_in_progress',
      help: 'Operation in progress per RaftCluster, by type (1 while it runs).',
      labelNames: ['namespace', 'cluster', 'type'],
      registers,
    });
    this.actions = new Counter({
      name: 'raftstore_operator_actions_total',
      help: 'Planner actions executed, by action type and result.',
      labelNames: ['action', 'result'],
      registers,
    });
    this.isLeader = new Gauge({
      name: 'raftstore_operator_leader',
      help: '1 while this replica holds the leader-election Lease.',
      registers,
    });
    this.informerErrors = new Counter({
      name: 'raftstore_operator_informer_errors_total',
      help: 'Informer failures (each followed by a restart), by resource.',
      labelNames: ['kind'],
      registers,
    });
    this.slotBatches = new Counter({
      name: 'raftstore_operator_slot_batches_moved_total',
      help: 'Batches of hash slots the operator moved between shards to the end.',
      labelNames: ['namespace', 'cluster'],
      registers,
    });
    this.slotKeysCopied = new Counter({
      name: 'raftstore_operator_slot_keys_copied_total',
      help: 'Keys copied from a source shard to a target shard by slot moves.',
      labelNames: ['namespace', 'cluster'],
      registers,
    });
    this.slotMovePause = new Histogram({
      name: 'raftstore_operator_slot_move_pause_seconds',
      help: "Per batch: from the source's freeze to the target serving, the time writes to the batch's slots were refused.",
      labelNames: ['namespace', 'cluster'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    if (options.defaultMetrics)
      collectDefaultMetrics({ register: this.registry, prefix: 'raftstore_operator_' });
  }

  /** Per-cluster gauges from the status just computed. */
  recordCluster(namespace: string, cluster: string, status: RaftClusterStatus): void {
    for (const h of HEALTH_VALUES) {
      this.clusterHealth.set({ namespace, cluster, health: h }, status.health === h ? 1 : 0);
    }
    const members = (status.shards ?? []).flatMap((s) => s.members ?? []);
    const voters = members.filter((m) => m.role !== 'learner');
    this.clusterMembers.set({ namespace, cluster, state: 'voters' }, voters.length);
    this.clusterMembers.set(
      { namespace, cluster, state: 'healthy_voters' },
      voters.filter((m) => m.healthy).length,
    );
    this.clusterMembers.set({ namespace, cluster, state: 'learners' }, members.length - voters.length);
    for (const t of OPERATION_TYPES) {
      this.operationsInProgress.set({ namespace, cluster, type: t }, status.operation?.type === t ? 1 : 0);
    }
  }

  /** One batch of a reshard finished. */
  recordSlotMove(namespace: string, cluster: string, report: MoveReport): void {
    this.slotBatches.inc({ namespace, cluster });
    this.slotKeysCopied.inc({ namespace, cluster }, report.keysCopied);
    this.slotMovePause.observe({ namespace, cluster }, report.pauseMs / 1000);
  }

  /** A deleted cluster's series go away. */
  forgetCluster(namespace: string, cluster: string): void {
    for (const h of HEALTH_VALUES) this.clusterHealth.remove({ namespace, cluster, health: h });
    for (const s of ['voters', 'healthy_voters', 'learners'])
      this.clusterMembers.remove({ namespace, cluster, state: s });
    for (const t of OPERATION_TYPES) this.operationsInProgress.remove({ namespace, cluster, type: t });
    this.slotBatches.remove({ namespace, cluster });
    this.slotKeysCopied.remove({ namespace, cluster });
    this.slotMovePause.remove({ namespace, cluster });
  }
}
