// The options the caller must pass to `new grpc.Server(...)` hosting createRaftService: grpc-js enforces message
// sizes per server, not per service, so the bound is set here, once, from the transport's own limits.

import type { ServerOptions } from '@grpc/grpc-js';
import { DEFAULT_KEEPALIVE, DEFAULT_LIMITS } from './options.js';

export interface RaftServerLimits {
  /** At least every peer's limits.maxMessageBytes (PeerTransport default 4 MiB): larger batches are refused. */
  readonly maxMessageBytes?: number;
  readonly keepaliveTimeMs?: number;
  readonly keepaliveTimeoutMs?: number;
}

/**
 * `new grpc.Server(raftServerOptions())`. Sets grpc.max_receive_message_length (the bound on one RaftBatch or
 * SnapshotChunk; snapshots themselves are bounded by createRaftService's maxSnapshotBytes), a small send bound
 * (responses are a few bytes) and server keepalive pings so a vanished peer's streams are released.
 */
export function raftServerOptions(limits: RaftServerLimits = {}): ServerOptions {
  return {
    'grpc.max_receive_message_length': limits.maxMessageBytes ?? DEFAULT_LIMITS.maxMessageBytes,
    'grpc.max_send_message_length': 64 * 1024,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs ?? DEFAULT_KEEPALIVE.timeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE.timeoutMs,
  };
}
