// The datastore node's Prometheus metrics. Each NodeMetrics owns its own Registry, never prom-client's global
// default: tests and simulations run several members in one process, and metrics registered twice on one registry
// throw. Methods are named for what happened (observeFsync, countProposals) so callers never touch metric objects.
//
// Label values are bounded by construction: results, phases and gRPC codes are closed unions; peers and gRPC
// service/method names come from cluster membership and our own service definitions.

import { status as GrpcStatus } from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { NO_NODE, type NodeId, type RaftStatus, type Role } from '../raft/types.js';

export const METRIC_PREFIX = 'raftstore_';

/** How a batch of proposals ended, as the host saw it. */
export type ProposalOutcome = 'ok' | 'notLeader' | 'refused' | 'timeout' | 'overloaded';

export type SnapshotPhase = 'save' | 'send' | 'restore';

export interface NodeMetricsOptions {
  /** Labels put on every series, e.g. {cluster, shard, member} when Prometheus does not add them itself. */
  readonly constLabels?: Readonly<Record<string, string>>;
  /** Milliseconds from a monotonic clock; injected so request timing can be tested without sleeping. */
  readonly nowMs?: () => number;
  /** The default process and Node.js runtime metrics; on unless a test wants a small exposition. */
  readonly processMetrics?: boolean;
}

/** Called once when a gRPC request ends, with its status code; later calls are ignored. */
export type GrpcRequestEnd = (code: GrpcStatus) => void;

// fsync latency on SSDs is 0.1-10 ms; a slow or contended disk shows up in the 100 ms - 2 s tail.
const FSYNC_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2,
];
const LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const SNAPSHOT_BUCKETS_SECONDS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
/** 256 B to 64 MiB by factors of 4: one small write up to a large batch of maximum-size values. */
const APPEND_BUCKETS_BYTES = [
  256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864,
];

export class NodeMetrics {
  readonly registry = new Registry();
  private readonly nowMs: () => number;

  private readonly term: Gauge;
  private readonly isLeader: Gauge;
  private readonly hasLeader: Gauge;
  private readonly commitIndex: Gauge;
  private readonly appliedIndex: Gauge;
  private readonly proposals: Counter<'result'>;
  private readonly proposalsPending: Gauge;
  private readonly leaderChanges: Counter;
  private readonly elections: Counter;
  private readonly walFsync: Histogram;
  private readonly walAppend: Histogram;
  private readonly apply: Histogram;
  private readonly snapshotBytes: Gauge;
  private readonly snapshotSeconds: Histogram<'phase'>;
  private readonly peerLag: Gauge<'peer'>;
  private readonly slots: Gauge<'state'>;
  private readonly slotEpoch: Gauge;
  private readonly dataFormat: Gauge;
  private readonly peerConnected: Gauge<'peer'>;
  private readonly grpcRequests: Counter<'service' | 'method' | 'code'>;
  private readonly grpcSeconds: Histogram<'service' | 'method'>;
  private readonly grpcInFlight: Gauge<'service'>;
  private readonly readIndex: Histogram;

  /** What the last setRaftStatus saw, to count transitions rather than states. */
  private lastLeader: NodeId = NO_NODE;
  private lastRole: Role | undefined;
  private lastTerm = 0;

  constructor(options: NodeMetricsOptions = {}) {
    this.nowMs = options.nowMs ?? (() => performance.now());
    if (options.constLabels !== undefined) this.registry.setDefaultLabels(options.constLabels);
    const registers = [this.registry];
    const name = (n: string): string => METRIC_PREFIX + n;

    this.term = new Gauge({ name: name('term'), help: 'Current Raft term.', registers });
    this.isLeader = new Gauge({
      name: name('is_leader'),
      help: '1 if this member is the leader.',
      registers,
    });
    this.hasLeader = new Gauge({
      name: name('has_leader'),
      help: '1 if this member knows a leader.',
      registers,
    });
    this.commitIndex = new Gauge({
      name: name('commit_index'),
      help: 'Highest log index known committed.',
      registers,
    });
    this.appliedIndex = new Gauge({
      name: name('applied_index'),
      help: 'Highest log index applied.',
      registers,
    });
    this.proposals = new Counter({
      name: name('proposals_total'),
      help: 'Client proposals by outcome.',
      labelNames: ['result'],
      registers,
    });
    this.proposalsPending = new Gauge({
      name: name('proposals_pending'),
      help: 'Proposals waiting to be committed and applied.',
      registers,
    });
    this.leaderChanges = new Counter({
      name: name('leader_changes_total'),
      help: 'Times this member saw a leader appear or change (the first leader counts).',
      registers,
    });
    this.elections = new Counter({
      name: name('elections_total'),
      help: 'Elections this member started (one per candidate term); pre-votes that failed are not counted.',
      registers,
    });
    this.walFsync = new Histogram({
      name: name('wal_fsync_seconds'),
      help: 'Duration of write-ahead log fsyncs.',
      buckets: FSYNC_BUCKETS_SECONDS,
      registers,
    });
    this.walAppend = new Histogram({
      name: name('wal_append_bytes'),
      help: 'Bytes written per write-ahead log append (one append per Ready).',
      buckets: APPEND_BUCKETS_BYTES,
      registers,
    });
    this.apply = new Histogram({
      name: name('apply_seconds'),
      help: 'Duration of applying one batch of committed entries.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.snapshotBytes = new Gauge({
      name: name('snapshot_bytes'),
      help: 'Size of the most recent snapshot saved, sent or restored.',
      registers,
    });
    this.snapshotSeconds = new Histogram({
      name: name('snapshot_seconds'),
      help: 'Duration of snapshot work by phase.',
      labelNames: ['phase'],
      buckets: SNAPSHOT_BUCKETS_SECONDS,
      registers,
    });
    this.peerLag = new Gauge({
      name: name('peer_lag_entries'),
      help: 'Leader only: entries each peer is behind the leader log.',
      labelNames: ['peer'],
      registers,
    });
    this.peerConnected = new Gauge({
      name: name('peer_connected'),
      help: '1 if the peer channel is connected.',
      labelNames: ['peer'],
      registers,
    });
    this.grpcRequests = new Counter({
      name: name('grpc_requests_total'),
      help: 'gRPC requests served, by final status code.',
      labelNames: ['service', 'method', 'code'],
      registers,
    });
    this.grpcSeconds = new Histogram({
      name: name('grpc_request_seconds'),
      help: 'Duration of gRPC requests served.',
      labelNames: ['service', 'method'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.grpcInFlight = new Gauge({
      name: name('grpc_in_flight'),
      help: 'gRPC requests being served.',
      labelNames: ['service'],
      registers,
    });
    this.readIndex = new Histogram({
      name: name('read_index_seconds'),
      help: 'Time from a linearizable read request to its ReadIndex being confirmed.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });

    this.slots = new Gauge({
      name: name('slots'),
      help: "Hash slots of this member's group by state: owned (served here) or moving (leaving, importing).",
      labelNames: ['state'],
      registers,
    });
    this.slotEpoch = new Gauge({
      name: name('slot_map_epoch'),
      help: "Highest slot-map epoch this member's group has applied a move step of.",
      registers,
    });

    this.dataFormat = new Gauge({
      name: name('data_format'),
      help: "The data format this member's group writes, as this member applied it (shared/versioning/data-format.ts).",
      registers,
    });

    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition; serve it with `contentType`. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Records the Raft core's status; call after each Ready is handled. Counts leader changes and elections from
   * transitions between calls, and publishes per-peer lag only while leader (followers have no progress data).
   */
  setRaftStatus(status: RaftStatus): void {
    this.term.set(status.term);
    this.isLeader.set(status.role === 'leader' ? 1 : 0);
    this.hasLeader.set(status.leader === NO_NODE ? 0 : 1);
    this.commitIndex.set(status.commit);
    this.appliedIndex.set(status.applied);
    if (status.leader !== NO_NODE && status.leader !== this.lastLeader) this.leaderChanges.inc();
    // A candidate whose election times out campaigns again in the next term without changing role: count terms.
    if (status.role === 'candidate' && (this.lastRole !== 'candidate' || status.term > this.lastTerm)) {
      this.elections.inc();
    }
    this.lastLeader = status.leader;
    this.lastRole = status.role;
    this.lastTerm = status.term;

    // Reset then refill, so removed peers and a lost leadership leave no stale series behind.
    this.peerLag.reset();
    if (status.role !== 'leader') return;
    for (const [peer, progress] of status.progress) {
      if (peer === status.id) continue;
      this.peerLag.set({ peer }, Math.max(0, status.lastIndex - progress.match));
    }
  }

  /** Records which slots the group serves (from the applied state, so every member of a group agrees). */
  setSlots(ownership: {
    readonly ownedCount: number;
    readonly movingCount: number;
    readonly epoch: number;
  }): void {
    this.slots.set({ state: 'owned' }, ownership.ownedCount);
    this.slots.set({ state: 'moving' }, ownership.movingCount);
    this.slotEpoch.set(ownership.epoch);
  }

  /** Records the group's data format (from the applied state, so every caught-up member of a group agrees). */
  setDataFormat(format: number): void {
    this.dataFormat.set(format);
  }

  countProposals(count: number, result: ProposalOutcome): void {
    if (count > 0) this.proposals.inc({ result }, count);
  }

  setProposalsPending(count: number): void {
    this.proposalsPending.set(count);
  }

  observeFsync(durationMs: number): void {
    this.walFsync.observe(seconds(durationMs));
  }

  observeWalAppend(bytes: number): void {
    this.walAppend.observe(nonNegative(bytes));
  }

  observeApply(durationMs: number): void {
    this.apply.observe(seconds(durationMs));
  }

  observeSnapshot(phase: SnapshotPhase, bytes: number, durationMs: number): void {
    this.snapshotBytes.set(nonNegative(bytes));
    this.snapshotSeconds.observe({ phase }, seconds(durationMs));
  }

  observeReadIndex(durationMs: number): void {
    this.readIndex.observe(seconds(durationMs));
  }

  setPeerConnected(peer: NodeId, connected: boolean): void {
    this.peerConnected.set({ peer }, connected ? 1 : 0);
  }

  /** Drops a removed member's series so membership churn does not grow the exposition forever. */
  forgetPeer(peer: NodeId): void {
    this.peerConnected.remove({ peer });
    this.peerLag.remove({ peer });
  }

  /**
   * Marks a gRPC request as started and returns the function to call when it ends. Ending twice is ignored, so a
   * handler may call it from both its success and error paths without double counting.
   */
  startGrpcRequest(service: string, method: string): GrpcRequestEnd {
    const started = this.nowMs();
    this.grpcInFlight.inc({ service });
    let ended = false;
    return (code) => {
      if (ended) return;
      ended = true;
      this.grpcInFlight.dec({ service });
      this.grpcRequests.inc({ service, method, code: grpcCodeName(code) });
      this.grpcSeconds.observe({ service, method }, seconds(this.nowMs() - started));
    };
  }

  /**
   * The replica loop's observer hooks (node/src/replica), mapped onto these metrics. Structural, so this file does
   * not depend on the replica; the wiring site is type-checked against the replica's interface.
   */
  replicaObserver(): {
    onFsync(durationMs: number): void;
    onApply(entries: number, durationMs: number): void;
    onProposals(count: number, result: ProposalOutcome): void;
    onSnapshot(bytes: number, durationMs: number): void;
    onReadIndex(durationMs: number): void;
  } {
    return {
      onFsync: (ms) => this.observeFsync(ms),
      onApply: (_entries, ms) => this.observeApply(ms),
      onProposals: (count, result) => this.countProposals(count, result),
      onSnapshot: (bytes, ms) => this.observeSnapshot('save', bytes, ms),
      onReadIndex: (ms) => this.observeReadIndex(ms),
    };
  }
}

/**
 * Milliseconds to seconds. A negative or non-finite duration can only come from a caller bug (the clock is
 * monotonic); it is recorded as 0 rather than thrown, because a metrics call must never stop the Raft loop.
 */
function seconds(durationMs: number): number {
  return Number.isFinite(durationMs) && durationMs > 0 ? durationMs / 1000 : 0;
}

/** The canonical upper-case name (`UNAVAILABLE`), as gRPC tooling and etcd's metrics spell codes. */
export function grpcCodeName(code: GrpcStatus): string {
  return GrpcStatus[code] ?? `CODE_${String(code)}`;
}

function nonNegative(n: number): number {
  return Number.isFinite(n) && n > 0 ? n : 0;
}
