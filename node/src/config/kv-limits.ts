// The request limits the KV layer enforces (node/src/kv/limits.ts), taken from the node's configuration. Limits
// without a flag keep the KV layer's defaults.

import { DEFAULT_KV_LIMITS, type KvLimits } from '../kv/limits.js';
import type { NodeConfig } from './node-config.js';

export function kvLimitsFromConfig(config: NodeConfig): KvLimits {
  return {
    ...DEFAULT_KV_LIMITS,
    maxKeyBytes: config.maxKeyBytes,
    maxValueBytes: config.maxValueBytes,
    maxTxnOps: config.maxTxnOps,
  };
}
