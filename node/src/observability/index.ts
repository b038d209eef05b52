// The node's observability surface: logs, metrics, the probe/metrics HTTP server and readiness policies.

export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export {
  grpcCodeName,
  NodeMetrics,
  type GrpcRequestEnd,
  type NodeMetricsOptions,
  type ProposalOutcome,
  type SnapshotPhase,
} from './node-metrics.js';
export {
  ObservabilityHttpServer,
  type BoundAddress,
  type HttpServerOptions,
  type MetricsSource,
  type Readiness,
  type ReadinessCheck,
} from '../../shared/http/http-server.js';
export { appliedCaughtUpCheck, hasLeaderCheck, readinessOf, votingMemberCheck } from './readiness.js';
export { raftStatusToJson, type RaftStatusJson } from './status-json.js';
