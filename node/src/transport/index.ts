// The peer transport: Raft messages between members over gRPC (client: PeerTransport; server: createRaftService).
export { PeerTransport, type PeerStats } from './peer-transport.js';
export { createRaftService, type RaftServiceMetrics, type RaftServiceOptions } from './raft-service.js';
export { raftServerOptions, type RaftServerLimits } from './server-options.js';
export * from './options.js';
export * from './errors.js';
