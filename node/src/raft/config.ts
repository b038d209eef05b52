// Construction-time settings of one Raft member. Time is counted in ticks and randomness is injected, so the same
// inputs always give the same outputs (the simulation relies on this to replay a seed).
import { RaftConfigError } from './errors.js';
import type { MemoryStorage } from './memory-storage.js';
import type { NodeId } from './types.js';

export interface RaftConfig {
  readonly id: NodeId;
  /** Holds the stable log and the latest snapshot; the core appends to it on advance(). */
  readonly storage: MemoryStorage;
  /** Followers campaign after a random timeout in [electionTicks, 2·electionTicks). */
  readonly electionTicks: number;
  /** The leader sends heartbeats every heartbeatTicks; must be < electionTicks. */
  readonly heartbeatTicks: number;
  /** Entries at or below this index were already applied by the host (restart after a crash). */
  readonly applied?: number;
  /** Upper bound on entry bytes in one append message (at least one entry is always sent). */
  readonly maxEntriesBytesPerMessage?: number;
  /** Pipelining bound: append messages in flight to one follower. */
  readonly maxInflightMessages?: number;
  /** Pipelining bound: entry bytes in flight to one follower (0 = unbounded). */
  readonly maxInflightBytes?: number;
  /** Backpressure: proposals that would take the uncommitted tail past this many bytes are refused (0 = off). */
  readonly maxUncommittedEntriesBytes?: number;
  /** Pre-vote (Raft thesis §9.6): a partitioned member that rejoins does not disrupt a healthy leader. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a quorum for an election timeout steps down; followers keep a lease. */
  readonly checkQuorum?: boolean;
  /** Returns a float in [0, 1). Injected so elections are reproducible. */
  readonly random: () => number;
}

export type ResolvedRaftConfig = Required<RaftConfig>;

export function resolveConfig(config: RaftConfig): ResolvedRaftConfig {
  const resolved: ResolvedRaftConfig = {
    applied: 0,
    maxEntriesBytesPerMessage: 1024 * 1024,
    maxInflightMessages: 256,
    maxInflightBytes: 0,
    maxUncommittedEntriesBytes: 0,
    preVote: true,
    checkQuorum: true,
    ...config,
  };
  if (resolved.id === '') throw new RaftConfigError('id must not be empty');
  if (!(resolved.heartbeatTicks >= 1)) throw new RaftConfigError('heartbeatTicks must be ≥ 1');
  if (!(resolved.electionTicks > resolved.heartbeatTicks)) {
    throw new RaftConfigError('electionTicks must be greater than heartbeatTicks');
  }
  if (!(resolved.maxInflightMessages >= 1)) throw new RaftConfigError('maxInflightMessages must be ≥ 1');
  if (resolved.maxEntriesBytesPerMessage < 0 || resolved.maxInflightBytes < 0) {
    throw new RaftConfigError('byte limits must not be negative');
  }
  if (resolved.maxUncommittedEntriesBytes < 0) {
    throw new RaftConfigError('maxUncommittedEntriesBytes must not be negative');
  }
  return resolved;
}
