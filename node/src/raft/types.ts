// The data the Raft core consumes and produces. The core is a pure state machine (etcd-io/raft's RawNode style):
// inputs are ticks, proposals and messages; outputs are these plain values, handed to the host through `Ready`.
// Everything here is serialisable, so the same values travel over the wire and into the write-ahead log.

/** A member's Raft identity. Opaque to the core; unique per incarnation (a wiped member comes back with a new id). */
export type NodeId = string;

/** Marks "no node" (no leader known, no vote cast). */
export const NO_NODE: NodeId = '';

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque for 'normal' entries (empty for the leader's no-op); an encoded ConfChange for 'confChange'. */
  readonly data: Uint8Array;
}

/** What must be durable before the node answers a vote or an append: Raft paper Figure 2 "persistent state". */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export type ConfChangeType = 'addLearner' | 'promote' | 'remove';

/** A single-server membership change (Raft thesis §4.1). At most one may be uncommitted at a time. */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque to the core: the host stores e.g. the member's address here so every member learns it from the log. */
  readonly context?: string;
}

/** The membership of a Raft group at some index. Learners receive the log but never vote or count toward quorum. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** A state-machine snapshot; `data` is opaque to the core. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

export type MessageType =
  // Local only: never sent over the network.
  | 'hup' // start an election (or pre-election)
  | 'beat' // leader: broadcast heartbeats
  | 'checkQuorum' // leader: step down if a quorum was not heard from
  | 'unreachable' // host reports a peer unreachable
  | 'snapStatus' // host reports how sending a snapshot went
  // Sent between members.
  | 'prop' // a proposal (local only in this core: followers do not forward proposals, the host forwards requests)
  | 'app'
  | 'appResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'snap'
  | 'timeoutNow'
  | 'transferLeader'
  | 'readIndex'
  | 'readIndexResp';

/**
 * One message, flat like etcd's raftpb.Message so it maps directly onto one protobuf message.
 * Field meanings by type:
 * - app: (logTerm, index) identify the entry preceding `entries`; commit is the leader's commit index.
 * - appResp: index is the follower's last matching index; on reject, rejectHint/logTerm give the follower's
 *   best guess of the conflict point (fast backtracking, Raft paper §5.3).
 * - vote/preVote: (logTerm, index) are the candidate's last log term and index; context 'transfer' marks a
 *   leadership transfer (bypasses the leader lease).
 * - heartbeat: commit is min(leader commit, follower match); context carries a ReadIndex round.
 * - readIndex/readIndexResp: context is the request id; index is the read index in the response.
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly snapshot?: Snapshot;
  readonly context?: Uint8Array;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the host may want to display or react to; present in a Ready only when it changed. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** A linearizable read that may be served once the host has applied up to `index`. */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * Everything the host must do, in order:
 * 1. send `messages` (may go out before persisting: the leader's appends, heartbeats, votes requests);
 * 2. persist `snapshot` (if any), `entries` and `hardState` (if any) and fsync when `mustSync`;
 * 3. only then send `messagesAfterPersist` (vote grants, append acks: they promise the data is durable);
 * 4. apply `snapshot` then `committedEntries` to the state machine; serve `readStates` once applied ≥ index;
 * 5. call `advance(ready)`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** True when hard state term/vote or entries changed: the host must fsync before step 3. */
  readonly mustSync: boolean;
}

/** Why the core refused a proposal. Each reason is distinct so the host can map it to a precise client error. */
export type ProposalRejection =
  | 'notLeader' // retry on the leader (the host forwards)
  | 'transferringLeadership' // a leadership transfer is running; retry shortly
  | 'tooManyUncommittedBytes' // backpressure: the uncommitted tail is over its bound
  | 'confChangePending' // a membership change is already in flight
  | 'invalidConfChange'; // e.g. promoting a node that is not a learner

export type ProposalResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: ProposalRejection };

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly pendingSnapshot: number;
  readonly inflight: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  /** Term of the last log entry (of the snapshot when the log is empty): with lastIndex, how up to date the log is. */
  readonly lastLogTerm: number;
  readonly leader: NodeId;
  readonly role: Role;
  readonly leadTransferee: NodeId;
  readonly config: ConfState;
  /** Per-member replication progress; only on the leader. */
  readonly progress: ReadonlyMap<NodeId, ProgressStatus>;
}
