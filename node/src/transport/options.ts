// Options of the peer transport (client side), their defaults and their validation. Every queue, batch, chunk, retry
// and wait has a bound here; `resolveTransportOptions` asserts them once so the hot path never re-checks.

import type { ChannelCredentials } from '@grpc/grpc-js';
import type { NodeId } from '../raft/types.js';
import { TransportConfigError } from './errors.js';

/** The subset of pino's API the transport uses, so a pino child logger fits without a pino dependency here. */
export interface TransportLogger {
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
  info(fields: Readonly<Record<string, unknown>>, message: string): void;
  debug(fields: Readonly<Record<string, unknown>>, message: string): void;
}

export type DropReason =
  | 'queueFull' // the per-peer queue was over a bound: the oldest message went
  | 'streamBroken' // messages written to a stream that then failed may not have arrived
  | 'tooLarge' // one message larger than maxMessageBytes (a Raft config error: maxSizePerMsg too large)
  | 'removed' // the peer was removed or the transport closed with messages still queued
  | 'superseded'; // a newer snapshot for the same peer replaced one still waiting

/** Optional metric hooks, e.g. wired to prom-client counters by the host. All are called synchronously. */
export interface TransportMetrics {
  batchSent?(peer: NodeId, messages: number, bytes: number): void;
  messagesDropped?(peer: NodeId, messages: number, reason: DropReason): void;
  snapshotStarted?(peer: NodeId, bytes: number): void;
  snapshotSent?(peer: NodeId, ok: boolean, bytes: number, chunks: number): void;
  streamReconnect?(peer: NodeId): void;
  /** The peer's stream became connected (the peer answered it) or stopped being so. */
  connectionChanged?(peer: NodeId, connected: boolean): void;
}

export interface TransportLimits {
  /** Messages waiting for one peer; beyond it the oldest is dropped (and onUnreachable fires). */
  readonly maxQueuedMessages: number;
  /** Bytes (encoded upper bound) waiting for one peer; same policy. */
  readonly maxQueuedBytes: number;
  /** One RaftBatch on the stream carries at most this many encoded bytes (a lone larger message goes alone). */
  readonly maxBatchBytes: number;
  /** Data bytes per SnapshotChunk. */
  readonly snapshotChunkBytes: number;
  /** The largest gRPC message sent; the server's grpc.max_receive_message_length must be at least this. */
  readonly maxMessageBytes: number;
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  /** Fraction in [0, 1): each delay is shortened by up to this fraction, drawn from the injected random source. */
  readonly jitter: number;
}

export interface KeepaliveOptions {
  /** Interval of HTTP/2 pings on the peer channel (grpc.keepalive_time_ms). */
  readonly timeMs: number;
  /** A ping unanswered for this long drops the connection, failing its streams (grpc.keepalive_timeout_ms). */
  readonly timeoutMs: number;
}

export interface TransportTimeouts {
  /**
   * A Stream call lives at most this long before it is ended gracefully and replaced; its gRPC deadline is this
   * plus endTimeoutMs, so the deadline never cuts a healthy stream.
   */
  readonly streamMaxAgeMs: number;
  /** After end(), how long to wait for the peer's StreamSummary before cancelling. */
  readonly endTimeoutMs: number;
  /**
   * A new Stream the peer has not answered (its response headers come at once) within this long is abandoned, and
   * the peer's name resolved afresh before the next one: its address is probably stale. A rescheduled pod's old IP
   * can swallow a TCP connect for minutes (the kernel's SYN retries), and until the call ends nothing else would
   * look the name up again.
   */
  readonly answerTimeoutMs: number;
  /** SendSnapshot deadline = snapshotBaseMs + size / snapshotMinBytesPerSecond. */
  readonly snapshotBaseMs: number;
  readonly snapshotMinBytesPerSecond: number;
  /** close(): the time given to flush queues and end streams before everything is cancelled. */
  readonly closeMs: number;
  /**
   * A peer's channel is closed and recreated (so its DNS name is resolved afresh) after the peer turned out to be
   * another member, or after repeated stream failures; at most once per this interval per peer.
   */
  readonly channelRecreateMinIntervalMs: number;
}

export interface PeerTransportOptions {
  /** The Raft group every message of this transport belongs to; written into each RaftBatch and SnapshotHeader. */
  readonly shardId: number;
  readonly selfId: NodeId;
  /** host:port of a peer, or undefined when unknown. Called again on every reconnect: addresses may move. */
  readonly resolve: (id: NodeId) => string | undefined;
  /** RawNode.reportUnreachable: a message to `id` was dropped (queue full or stream broken). */
  readonly onUnreachable: (id: NodeId) => void;
  /** RawNode.reportSnapshot: how a 'snap' message to `id` went. */
  readonly onSnapshotStatus: (id: NodeId, ok: boolean) => void;
  readonly logger?: TransportLogger;
  readonly metrics?: TransportMetrics;
  /** Uniform in [0, 1); injected so backoff jitter is reproducible in tests. Default Math.random. */
  readonly random?: () => number;
  /** Milliseconds; used for deadlines and lastContactMs. Default Date.now. */
  readonly now?: () => number;
  /** Default: insecure (plaintext). */
  readonly credentials?: ChannelCredentials;
  readonly limits?: Partial<TransportLimits>;
  readonly backoff?: Partial<BackoffOptions>;
  readonly keepalive?: Partial<KeepaliveOptions>;
  readonly timeouts?: Partial<TransportTimeouts>;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: TransportLimits = {
  maxQueuedMessages: 4096,
  maxQueuedBytes: 64 * MiB,
  maxBatchBytes: 1 * MiB,
  snapshotChunkBytes: 1 * MiB,
  maxMessageBytes: 4 * MiB,
};

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5000, multiplier: 2, jitter: 0.2 };

export const DEFAULT_KEEPALIVE: KeepaliveOptions = { timeMs: 10_000, timeoutMs: 5_000 };

export const DEFAULT_TIMEOUTS: TransportTimeouts = {
  streamMaxAgeMs: 300_000,
  endTimeoutMs: 5_000,
  answerTimeoutMs: 3_000,
  snapshotBaseMs: 10_000,
  snapshotMinBytesPerSecond: 1 * MiB,
  closeMs: 5_000,
  channelRecreateMinIntervalMs: 1_000,
};

/** Room for the RaftBatch / SnapshotChunk framing around the payload (shard id, ids, tags and lengths). */
export const FRAMING_BYTES_MAX = 1024;

export interface ResolvedTransportOptions {
  readonly shardId: number;
  readonly selfId: NodeId;
  readonly limits: TransportLimits;
  readonly backoff: BackoffOptions;
  readonly keepalive: KeepaliveOptions;
  readonly timeouts: TransportTimeouts;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new TransportConfigError(`${name} must be a positive integer, got ${value}`);
  }
}

/** Fills in defaults and asserts every bound; throws TransportConfigError naming the first bad option. */
export function resolveTransportOptions(options: PeerTransportOptions): ResolvedTransportOptions {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const keepalive = { ...DEFAULT_KEEPALIVE, ...options.keepalive };
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  if (!Number.isInteger(options.shardId) || options.shardId < 0 || options.shardId > 0xffff_ffff) {
    throw new TransportConfigError(`shardId must be a uint32, got ${options.shardId}`);
  }
  if (options.selfId === '') throw new TransportConfigError('selfId must not be empty');
  for (const [name, value] of Object.entries(limits)) positiveInteger(`limits.${name}`, value);
  for (const [name, value] of Object.entries(keepalive)) positiveInteger(`keepalive.${name}`, value);
  for (const [name, value] of Object.entries(timeouts)) positiveInteger(`timeouts.${name}`, value);
  positiveInteger('backoff.initialMs', backoff.initialMs);
  positiveInteger('backoff.maxMs', backoff.maxMs);
  if (backoff.maxMs < backoff.initialMs) {
    throw new TransportConfigError(`backoff.maxMs ${backoff.maxMs} < backoff.initialMs ${backoff.initialMs}`);
  }
  if (!(backoff.multiplier >= 1)) throw new TransportConfigError(`backoff.multiplier must be >= 1`);
  if (!(backoff.jitter >= 0 && backoff.jitter < 1))
    throw new TransportConfigError(`backoff.jitter must be in [0, 1)`);
  if (limits.maxBatchBytes + FRAMING_BYTES_MAX > limits.maxMessageBytes) {
    throw new TransportConfigError(
      `limits.maxBatchBytes ${limits.maxBatchBytes} + ${FRAMING_BYTES_MAX} framing exceeds maxMessageBytes ${limits.maxMessageBytes}`,
    );
  }
  if (limits.snapshotChunkBytes + FRAMING_BYTES_MAX > limits.maxMessageBytes) {
    throw new TransportConfigError(
      `limits.snapshotChunkBytes ${limits.snapshotChunkBytes} + ${FRAMING_BYTES_MAX} framing exceeds maxMessageBytes ${limits.maxMessageBytes}`,
    );
  }
  return { shardId: options.shardId, selfId: options.selfId, limits, backoff, keepalive, timeouts };
}
