// The Raft consensus core: a pure, deterministic state machine. See raw-node.ts for the host loop.
export * from './types.js';
export * from './errors.js';
export type { RaftConfig } from './config.js';
export { MemoryStorage } from './memory-storage.js';
export { RawNode } from './raw-node.js';
export { newMessage } from './message.js';
export { encodeConfChange, decodeConfChange } from './conf-change.js';
