// Size limits for client requests. They are enforced before a command is proposed (validate.ts), never while
// applying: replicas may be configured differently during a rolling change, and applying must give the same result
// everywhere, so a command that made it into the log is applied whatever the local limits say.

export interface KvLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
  /** Bounds each of a transaction's compare, success and failure lists (etcd's --max-txn-ops). */
  readonly maxTxnOps: number;
  /** Upper bound on a range's limit, inside transactions and for reads. */
  readonly maxRangeLimit: number;
  readonly maxClientIdBytes: number;
}

export const DEFAULT_KV_LIMITS: KvLimits = {
  maxKeyBytes: 4 * 1024,
  maxValueBytes: 1024 * 1024,
  maxTxnOps: 128,
  maxRangeLimit: 10_000,
  maxClientIdBytes: 256,
};
