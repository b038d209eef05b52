// The key-value state machine's commands, reads and results. Commands are what travels in Raft entries (see
// command-codec.ts); results are what the apply loop hands back to the waiting client request. Semantics follow
// etcd v3 (without MVCC history): one store-wide revision, bumped once per command that changes something.

import type { PageStart } from './copy-cursors.js';
import type { SlotMoveRequest, SlotRedirect } from '../sharding/slot-ownership.js';

export interface KeyValue {
  readonly key: Uint8Array;
  /** Empty when read with keysOnly. */
  readonly value: Uint8Array;
  /** Revision of the write that created the key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the last write to the key. */
  readonly modRevision: number;
  /** Number of writes since creation; 1 after the first put. */
  readonly version: number;
}

/** A set of keys, compared bytewise. */
export type KeyRange =
  | { readonly kind: 'key'; readonly key: Uint8Array }
  /** Every key starting with `prefix`; an empty prefix is every key. */
  | { readonly kind: 'prefix'; readonly prefix: Uint8Array }
  /** [start, end); `end` undefined means "to the last key". */
  | { readonly kind: 'interval'; readonly start: Uint8Array; readonly end?: Uint8Array };

export interface RangeOptions {
  /** At most this many key-values; 0 = no limit (callers outside the store must bound it, see validate.ts). */
  readonly limit: number;
  readonly keysOnly: boolean;
  readonly countOnly: boolean;
}

export type CompareOperator = 'equal' | 'notEqual' | 'less' | 'greater';

/** What a Compare looks at, with its operand. A missing key has revisions and version 0 and does not exist. */
export type CompareTarget =
  /** Like etcd, any value comparison against a missing key is false. */
  | { readonly kind: 'value'; readonly value: Uint8Array }
  | { readonly kind: 'modRevision'; readonly revision: number }
  | { readonly kind: 'createRevision'; readonly revision: number }
  | { readonly kind: 'version'; readonly version: number }
  /** Only 'equal' and 'notEqual'. */
  | { readonly kind: 'exists'; readonly exists: boolean };

export interface Compare {
  readonly key: Uint8Array;
  readonly operator: CompareOperator;
  readonly target: CompareTarget;
}

export interface PutOp {
  readonly kind: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly prevKv: boolean;
}

export interface DeleteOp {
  readonly kind: 'delete';
  readonly range: KeyRange;
  readonly prevKv: boolean;
}

export interface RangeOp {
  readonly kind: 'range';
  readonly range: KeyRange;
  readonly options: RangeOptions;
}

/** An op inside a transaction. Ops run in order; a later op sees the effects of earlier ones. */
export type TxnOp = PutOp | DeleteOp | RangeOp;

export interface TxnRequest {
  readonly kind: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

/** A step of moving hash slots between groups (sharding/slot-ownership.ts), ordered in the log with the writes. */
export interface MoveSlotsOp {
  readonly kind: 'moveSlots';
  readonly request: SlotMoveRequest;
}

/** A key as the source group held it when it froze the key's slot. */
export interface IngestedKey {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Writes since creation, kept across the move; revisions are per group and start afresh. */
  readonly version: number;
}

/**
 * One batch of a slot import: keys of slots this group is importing at `epoch`, then the slots whose data is now
 * all in (sealed: they may be activated). The sealing batch also carries the source's client sessions, so a client
 * retrying a write the source applied gets the source's answer here instead of applying it twice. (A client keeps
 * one client id and sequence per group it writes to, and retries under the id it first used; the merged table
 * then knows that id.)
 */
export interface IngestOp {
  readonly kind: 'ingest';
  /** The source group of the move. */
  readonly from: number;
  readonly epoch: number;
  /** Where the page starts in the source's export: what lets the group keep its copy cursor (copy-cursors.ts). */
  readonly start: PageStart;
  readonly kvs: readonly IngestedKey[];
  readonly seal: readonly number[];
  readonly sessions: readonly Session[];
}

/**
 * Sets the data format the group writes (shared/versioning/data-format.ts): what it may write that an older build
 * cannot read. Applied by every member in log order; a format this build does not know is refused, changing
 * nothing. Carries no session: it is not a client write, and setting a format twice is harmless.
 */
export interface SetDataFormatOp {
  readonly kind: 'setDataFormat';
  readonly format: number;
}

export type ClientOperation = PutOp | DeleteOp | TxnRequest;

export type Operation = ClientOperation | MoveSlotsOp | IngestOp | SetDataFormatOp;

/** Identifies a client request for at-most-once application of retries (Raft thesis §6.3). */
export interface SessionRef {
  /** Non-empty, unique per client process. */
  readonly clientId: string;
  /** ≥ 1, increasing per client; a client's first request has sequence 1. */
  readonly sequence: number;
}

/** A client's entry in the session table (sessions.ts), as a snapshot or an import carries it. */
export interface Session {
  readonly clientId: string;
  readonly lastSequence: number;
  readonly lastSeenMs: number;
  /** Cached results by sequence, ascending. */
  readonly results: ReadonlyMap<number, CommandResult>;
}

/** One replicated command: the payload of a normal Raft entry. */
export interface Command {
  /**
   * Wall-clock milliseconds stamped by the leader when proposing. Replicas never read their own clock: session
   * expiry is decided from these stamps, so it is identical on every replica.
   */
  readonly timestampMs: number;
  readonly session?: SessionRef;
  readonly op: Operation;
}

export interface PutResult {
  readonly kind: 'put';
  readonly revision: number;
  readonly prevKv?: KeyValue;
}

export interface DeleteResult {
  readonly kind: 'delete';
  readonly revision: number;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
  /**
   * How many slots the group served when it applied a delete command, so a fan-out over shards can tell it reached
   * every slot (they sum to SLOT_COUNT) from one that raced a move. Absent inside a transaction.
   */
  readonly slotsServed?: number;
}

export interface RangeResult {
  readonly kind: 'range';
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  /** True if the limit cut the result short. */
  readonly more: boolean;
  /** Keys in the range regardless of the limit. */
  readonly count: number;
}

export type TxnOpResult = PutResult | DeleteResult | RangeResult;

export interface TxnResult {
  readonly kind: 'txn';
  readonly revision: number;
  readonly succeeded: boolean;
  readonly responses: readonly TxnOpResult[];
}

/**
 * A request refused by the session table, not applied:
 * - sessionUnknown: no session for the client and sequence > 1 (it expired or was evicted; the client must start
 *   a new session with a new client id, since whether its earlier requests were applied is unknown).
 * - resultEvicted: sequence ≤ the last applied one but its result is no longer cached.
 */
export interface SessionErrorResult {
  readonly kind: 'sessionError';
  readonly code: 'sessionUnknown' | 'resultEvicted';
  readonly message: string;
}

/** A request for keys of a slot this group does not serve (now): not applied; retry where `redirect` points. */
export interface WrongShardResult {
  readonly kind: 'wrongShard';
  readonly redirect: SlotRedirect;
}

/** The outcome of a slot-move step or an ingest batch: applied, or refused (changing nothing) with the reason. */
export interface SlotsResult {
  readonly kind: 'slots';
  readonly revision: number;
  readonly ok: boolean;
  /** Slots that changed state, or keys an ingest wrote (not those it already held at that version or newer). */
  readonly changed: number;
  /** Empty when ok. */
  readonly reason: string;
}

/**
 * The outcome of a setDataFormat entry: the format before and after it (equal when refused, or when it set the
 * format in effect). Never cached in a session table, so it has no encoding in result-codec.ts.
 */
export interface DataFormatResult {
  readonly kind: 'dataFormat';
  readonly ok: boolean;
  readonly previous: number;
  readonly format: number;
  /** The log index of the entry. */
  readonly index: number;
  /** Empty when ok. */
  readonly reason: string;
}

export type CommandResult =
  | PutResult
  | DeleteResult
  | TxnResult
  | SessionErrorResult
  | WrongShardResult
  | SlotsResult
  | DataFormatResult;

export interface ApplyOutcome {
  readonly result: CommandResult;
  /** True if this was a retry answered from the session table without re-applying. */
  readonly duplicate: boolean;
}

/** How the store keeps a key's data (the key itself is the map key). */
export interface StoredValue {
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}
