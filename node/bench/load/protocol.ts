// Messages between the bench driver and its load worker processes (over the fork IPC channel).
import type { HistogramCounts } from './histogram.js';

export type SystemName = 'raftstore' | 'etcd';
export type Operation = 'put' | 'get-linearizable' | 'get-serializable';

/**
 * Slot-aware routing for a sharded cluster: each key's requests go to one endpoint allowed for the shard that owns
 * the key's slot, and name no shard (shard_id unset), so the member that receives one routes it by key.
 */
export interface KeyRouting {
  /** Slot → shard, as KV.SlotMap ranges (inclusive ends) covering every slot once. */
  readonly ranges: readonly { readonly start: number; readonly end: number; readonly shard: number }[];
  /** Indexed by shard id: the indexes into the job's endpoints that a key of that shard may be sent to. */
  readonly endpointsByShard: readonly (readonly number[])[];
  /** Member names of the job's endpoints, in the same order: acks say which member answered. */
  readonly endpointNames: readonly string[];
}

export interface WorkerJob {
  readonly system: SystemName;
  readonly op: Operation;
  /** Requests go round-robin over these endpoints (host:port), or as `routing` says when it is set. */
  readonly endpoints: readonly string[];
  readonly routing?: KeyRouting;
  /** Requests this worker keeps outstanding (closed loop); ignored when paced. */
  readonly inflight: number;
  /** gRPC channels per endpoint, each with its own TCP connection. */
  readonly channelsPerEndpoint: number;
  readonly duration_ms: number;
  /** When set, issue one request every interval_ms regardless of replies (the gap writer), not a closed loop. */
  readonly paced_interval_ms?: number;
  /**
   * When the fault comes (ms after the start): only gaps that end after it count as the fault's gap, so a stall of
   * the shared machine before the fault is reported apart (maxAckGapBeforeFault_ms) instead of as the fault's cost.
   */
  readonly fault_at_ms?: number;
  readonly deadline_ms: number;
  readonly keySpace: number;
  readonly valueBytes: number;
  /** Distinguishes workers' keys and random streams. */
  readonly workerIndex: number;
}

export interface WorkerResult {
  readonly ok: number;
  /** Acks that arrived within the run's duration (the tail drain after it is excluded): the rate's numerator. */
  readonly okInWindow: number;
  readonly errors: number;
  readonly firstError: string;
  readonly histogram: HistogramCounts;
  /**
   * Longest interval without an acknowledged request (ms), from the start to the first ack, between acks, and from
   * the last ack to the end of the run: a system that never recovers within the run shows the whole outage.
   */
  readonly maxAckGap_ms: number;
  /** Wall-clock time (Date.now()) at which that gap ended. */
  readonly maxAckGapEnd_ms: number;
  /** With fault_at_ms: the longest gap that ended before the fault (the machine's own noise). */
  readonly maxAckGapBeforeFault_ms?: number;
  /** Paced runs only: what the requests issued during the longest gap got, grouped (endpoint: outcome × count). */
  readonly gapOutcomes?: readonly GapOutcome[];
  /**
   * Routed jobs only: acks whose response header names the member the request was sent to. A member that
   * forwarded the request (to its shard's leader, or to another shard) relays the answer of the member that applied it.
   */
  readonly answeredByAsked?: number;
  /** This worker's own CPU (user + system) during the run, in microseconds. */
  readonly cpu_us: number;
  readonly elapsed_ms: number;
}

/** Requests to one endpoint with one outcome during the longest gap; times are ms after the gap began. */
export interface GapOutcome {
  readonly endpoint: string;
  readonly outcome: string;
  readonly count: number;
  readonly firstStart_ms: number;
  readonly lastStart_ms: number;
  readonly maxLatency_ms: number;
}

export type DriverMessage = { readonly type: 'job'; readonly job: WorkerJob } | { readonly type: 'go' };
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: WorkerResult }
  | { readonly type: 'failed'; readonly error: string };
