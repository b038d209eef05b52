// The replicated key-value state machine: the "apply" side of a Raft member. Pure and deterministic: its state is a
// function of the sequence of (index, command) it was given (or of the snapshot it was restored from), with no
// clock, randomness or I/O of its own, so every replica that applied the same log holds the same bytes.
//
// Semantics follow etcd v3 without history: one store-wide revision, incremented once per command that changes
// something (a put always does; a delete only if it deleted a key; a transaction if any of its writes did, all of
// its writes sharing the new revision). Per key: createRevision, modRevision and version (writes since creation).
//
// The group serves only the hash slots its ownership says (sharding/slot-ownership.ts): a client operation on a
// key of another slot is refused with a redirect (slot-fence.ts), checked when the command is applied, so a write
// proposed before the slot froze and applied after it is refused too. Slot-move steps and import batches are
// commands like any other, ordered in the log with the writes they fence. An import also keeps its copy cursor
// (copy-cursors.ts), so a coordinator that takes over a move mid-copy resumes where the copy stands.
//
// The group's data format (shared/versioning/data-format.ts) is replicated state too: set by a setDataFormat
// command, carried by snapshots, it decides what the group writes that an older build could not read (from data
// format 2, compressed snapshots).

import { KvCodecError } from './binary.js';
import { compareBytes, copyBytes, describeKey, prefixEnd, toBytes, type BytesLike } from './bytes.js';
import { decodeCommand } from './command-codec.js';
import { keySlot } from '../../shared/sharding/slot.js';
import { BASE_DATA_FORMAT, MAX_DATA_FORMAT } from '../../shared/versioning/data-format.js';
import { seededRandom } from '../random/prng.js';
import { CopyCursors, pageProblem } from './copy-cursors.js';
import {
  SlotOwnership,
  SlotOwnershipError,
  type SlotMoveRequest,
  type SlotOwnershipView,
} from '../sharding/slot-ownership.js';
import { fenceOperation, fenceRange } from './slot-fence.js';
import { DEFAULT_SESSION_CONFIG, SessionError, SessionTable, type SessionConfig } from './sessions.js';
import { SkipList } from './skip-list.js';
import { decodeKvSnapshot, encodeKvSnapshot } from './snapshot-codec.js';
import type {
  ApplyOutcome,
  Command,
  CommandResult,
  ClientOperation,
  Compare,
  DataFormatResult,
  DeleteOp,
  DeleteResult,
  IngestedKey,
  IngestOp,
  KeyRange,
  KeyValue,
  Operation,
  PutOp,
  PutResult,
  RangeOptions,
  RangeResult,
  Session,
  SlotsResult,
  StoredValue,
  TxnOpResult,
  TxnRequest,
} from './types.js';

export interface KvStateMachineOptions {
  /** Must be the same on every replica: session expiry and eviction are part of the replicated behaviour. */
  readonly sessions: SessionConfig;
  /** Coin flips for the ordered map's balance; they affect speed only, never results or snapshots. */
  readonly random: () => number;
  /**
   * The slots the group serves before its first entry: the same on every replica of the group, from values fixed
   * when the group was created (SlotOwnership.initial), never from anything that changes later.
   */
  readonly ownership: () => SlotOwnership;
}

/** Options with a fresh random source (never shared between instances, so each one is reproducible alone). */
export function kvStateMachineOptions(
  sessions: SessionConfig = DEFAULT_SESSION_CONFIG,
  seed = 0x5eed,
  ownership: () => SlotOwnership = () => SlotOwnership.all(),
): KvStateMachineOptions {
  return { sessions, random: seededRandom(seed), ownership };
}

export interface SlotExportRequest {
  readonly slots: readonly number[];
  readonly epoch: number;
  /** Resume after this key (the last of the previous page); undefined for the first page. */
  readonly after?: Uint8Array;
  /** Page bounds: at most this many keys, and no more key + value bytes than this once the page holds a key. */
  readonly maxKeys: number;
  readonly maxBytes: number;
}

export type SlotExport =
  | { readonly ok: true; readonly kvs: readonly IngestedKey[]; readonly more: boolean }
  | { readonly ok: false; readonly reason: string };

/**
 * Whether an applied command lowered the group's data format: the member must then rewrite its snapshot in the lower
 * format soon, so a build that reads only the lower one can start from its data (see RaftReplica's snapshotAfter).
 */
export function lowersDataFormat(outcome: ApplyOutcome): boolean {
  const result = outcome.result;
  return result.kind === 'dataFormat' && result.ok && result.format < result.previous;
}

/** A broken precondition of the apply loop (e.g. an index applied twice): a bug in the host, not a client error. */
export class KvInvariantError extends Error {
  override readonly name = 'KvInvariantError';
}

const EMPTY = new Uint8Array(0);

/** [start, end) of a KeyRange; undefined bounds are open. */
function bounds(range: KeyRange): { start: Uint8Array | undefined; end: Uint8Array | undefined } {
  switch (range.kind) {
    case 'key':
      return { start: range.key, end: undefined };
    case 'prefix':
      return range.prefix.length === 0
        ? { start: undefined, end: undefined }
        : { start: range.prefix, end: prefixEnd(range.prefix) };
    case 'interval':
      return { start: range.start.length === 0 ? undefined : range.start, end: range.end };
  }
}

function toKeyValue(key: Uint8Array, stored: StoredValue, keysOnly = false): KeyValue {
  return {
    key,
    value: keysOnly ? EMPTY : stored.value,
    createRevision: stored.createRevision,
    modRevision: stored.modRevision,
    version: stored.version,
  };
}

/**
 * Returned KeyValue byte arrays are the store's own (never mutated by the store, since a write replaces the whole
 * record): callers must not mutate them either.
 */
export class KvStateMachine {
  readonly #map: SkipList<StoredValue>;
  #sessions: SessionTable;
  #ownership: SlotOwnership;
  #cursors = new CopyCursors();
  #revision = 0;
  #appliedIndex = 0;
  #clockMs = 0;
  #dataFormat = BASE_DATA_FORMAT;

  constructor(options: KvStateMachineOptions = kvStateMachineOptions()) {
    this.#map = new SkipList(options.random);
    this.#sessions = new SessionTable(options.sessions);
    this.#ownership = options.ownership();
  }

  /** The slots this group serves and the moves under way. */
  get ownership(): SlotOwnershipView {
    return this.#ownership;
  }

  /**
   * The copy cursor of this group's import at `epoch`: the last key of the source's export it has ingested together
   * with every key before it. Undefined before the copy's first page, and once the import is sealed or aborted.
   * The group's own bytes: callers must not mutate them.
   */
  copyCursor(epoch: number): Uint8Array | undefined {
    return this.#cursors.of(epoch);
  }

  /** The Raft index of the last applied entry; 0 before any. */
  get appliedIndex(): number {
    return this.#appliedIndex;
  }

  /** The store revision: 0 before the first write. */
  get revision(): number {
    return this.#revision;
  }

  /** The largest leader timestamp applied so far: the store's (monotonic) notion of time. */
  get clockMs(): number {
    return this.#clockMs;
  }

  /** The data format the group writes, as of the last applied entry (BASE_DATA_FORMAT until one set it). */
  get dataFormat(): number {
    return this.#dataFormat;
  }

  get keyCount(): number {
    return this.#map.size;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  #advance(index: number): void {
    if (!Number.isSafeInteger(index) || index <= this.#appliedIndex) {
      throw new KvInvariantError(
        `apply at index ${index}, but index ${this.#appliedIndex} is already applied`,
      );
    }
    this.#appliedIndex = index;
  }

  /**
   * Applies the data of a committed normal entry. Empty data (the leader's no-op) only advances the applied index.
   * Malformed data throws KvCodecError: every replica decodes the same bytes, so it is a bug upstream, not a
   * reason to diverge; the host must stop rather than skip it.
   */
  applyEntry(index: number, data: Uint8Array): ApplyOutcome | undefined {
    if (data.length === 0) {
      this.applyNoop(index);
      return undefined;
    }
    return this.apply(index, decodeCommand(data));
  }

  /** An entry that carries no command (a no-op or a configuration change) still moves the applied index. */
  applyNoop(index: number): void {
    this.#advance(index);
  }

  apply(index: number, command: Command): ApplyOutcome {
    this.#advance(index);
    // Leader clocks may disagree across a leadership change; taking the maximum keeps time monotonic.
    this.#clockMs = Math.max(this.#clockMs, command.timestampMs);
    this.#sessions.expire(this.#clockMs);
    const op = command.op;
    // Not a client write: no slot to fence, and no session (the codec refuses one; one given here is ignored, so
    // the result never reaches the session table).
    if (op.kind === 'setDataFormat') return { result: this.#setDataFormat(op.format), duplicate: false };
    // The fence comes before the session table: a request for a slot served elsewhere is that group's to answer,
    // retry or not (after a move the owner holds this group's sessions too), and a refusal is never recorded, so
    // the client can send the same sequence where the redirect points.
    if (op.kind !== 'moveSlots' && op.kind !== 'ingest') {
      const redirect = fenceOperation(op, this.#ownership);
      if (redirect !== undefined) return { result: { kind: 'wrongShard', redirect }, duplicate: false };
    }
    const session = command.session;
    if (session !== undefined) {
      const check = this.#sessions.check(session);
      if (check.kind !== 'apply') return { result: check.result, duplicate: check.kind === 'duplicate' };
    }
    const result = this.#execute(op);
    if (session !== undefined) this.#sessions.record(session, result, this.#clockMs);
    return { result, duplicate: false };
  }

  #execute(op: Exclude<Operation, { kind: 'setDataFormat' }>): CommandResult {
    switch (op.kind) {
      case 'moveSlots':
        return this.#moveSlots(op.request);
      case 'ingest':
        return this.#ingest(op);
      default:
        return this.#executeClient(op);
    }
  }

  /** A format this build does not know is refused, changing nothing: every replica refuses it alike. */
  #setDataFormat(format: number): DataFormatResult {
    const previous = this.#dataFormat;
    if (!Number.isInteger(format) || format < BASE_DATA_FORMAT || format > MAX_DATA_FORMAT) {
      return {
        kind: 'dataFormat',
        ok: false,
        previous,
        format: previous,
        index: this.#appliedIndex,
        reason: `data format ${format} is outside ${BASE_DATA_FORMAT}..${MAX_DATA_FORMAT}`,
      };
    }
    this.#dataFormat = format;
    return { kind: 'dataFormat', ok: true, previous, format, index: this.#appliedIndex, reason: '' };
  }

  #executeClient(op: ClientOperation): CommandResult {
    switch (op.kind) {
      case 'put': {
        const revision = this.#revision + 1;
        this.#revision = revision;
        return { ...this.#put(op, revision), revision };
      }
      case 'delete': {
        const result = this.#delete(op);
        if (result.deleted > 0) this.#revision++;
        return { ...result, revision: this.#revision, slotsServed: this.#ownership.ownedCount };
      }
      case 'txn':
        return this.#txn(op);
    }
  }

  #put(op: PutOp, revision: number): Omit<PutResult, 'revision'> {
    const key = copyBytes(op.key); // copies: the store must not pin or share the entry's buffer
    const previous = this.#map.get(key);
    this.#map.set(key, {
      value: copyBytes(op.value),
      createRevision: previous?.createRevision ?? revision,
      modRevision: revision,
      version: (previous?.version ?? 0) + 1,
    });
    return op.prevKv && previous !== undefined
      ? { kind: 'put', prevKv: toKeyValue(key, previous) }
      : { kind: 'put' };
  }

  #delete(op: DeleteOp): Omit<DeleteResult, 'revision'> {
    const doomed = this.#collect(op.range);
    for (const [key] of doomed) this.#map.delete(key);
    return {
      kind: 'delete',
      deleted: doomed.length,
      prevKvs: op.prevKv ? doomed.map(([key, stored]) => toKeyValue(key, stored)) : [],
    };
  }

  /**
   * Entries in `range` of the slots this group serves, lazily: a read past its limit only counts, it does not build
   * the rest. Keys of other slots (being imported, or frozen on their way out) are invisible.
   */
  *#scan(range: KeyRange): Generator<[Uint8Array, StoredValue]> {
    if (range.kind === 'key') {
      const stored = this.#map.get(range.key);
      if (stored !== undefined && this.#servesKey(range.key)) yield [range.key, stored];
      return;
    }
    const { start, end } = bounds(range);
    if (this.#ownership.servesEverySlot) {
      yield* this.#map.entries(start, end);
      return;
    }
    for (const entry of this.#map.entries(start, end)) {
      if (this.#ownership.serves(keySlot(entry[0]))) yield entry;
    }
  }

  /** Whether the key's slot is served here; no hashing in the common case of a group serving every slot. */
  #servesKey(key: Uint8Array): boolean {
    return this.#ownership.servesEverySlot || this.#ownership.serves(keySlot(key));
  }

  #moveSlots(request: SlotMoveRequest): SlotsResult {
    const outcome = this.#ownership.apply(request);
    if (!outcome.ok) return this.#slotsResult(0, outcome.reason);
    // An import sealed or given up copies no more. (A seal comes with the last page in practice, see #ingest.)
    if (request.step === 'abort' || request.step === 'seal') this.#cursors.clear(request.epoch);
    if (outcome.dropped.length > 0) this.#dropSlots(new Set(outcome.dropped));
    return this.#slotsResult(outcome.changed, '');
  }

  /**
   * Removes the keys of slots this group gave away or gave up importing. They stop being visible at once (the
   * ownership says so), and a snapshot never carries them. Does not change the revision: no key changed, it moved.
   * O(keys): a full scan, since keys are ordered by bytes, not by slot.
   */
  #dropSlots(slots: ReadonlySet<number>): void {
    const doomed: Uint8Array[] = [];
    for (const [key] of this.#map.entries()) if (slots.has(keySlot(key))) doomed.push(key);
    for (const key of doomed) this.#map.delete(key);
  }

  #ingest(op: IngestOp): SlotsResult {
    for (const kv of op.kvs) {
      const slot = keySlot(kv.key);
      if (this.#ownership.stateOf(slot) !== 'importing' || this.#ownership.moveEpochOf(slot) !== op.epoch) {
        return this.#slotsResult(
          0,
          `key of slot ${slot}: the slot is not being imported at epoch ${op.epoch} ` +
            `(it is ${this.#ownership.stateOf(slot)}, epoch ${this.#ownership.moveEpochOf(slot)})`,
        );
      }
      if (kv.key.length === 0 || !Number.isSafeInteger(kv.version) || kv.version < 1) {
        return this.#slotsResult(0, `an ingested key is empty or has version ${kv.version}`);
      }
    }
    // Before anything changes: a refused page leaves no trace.
    const problem = pageProblem(
      op.start,
      op.kvs.map((kv) => kv.key),
    );
    if (problem !== undefined) return this.#slotsResult(0, `ingest at epoch ${op.epoch}: ${problem}`);
    if (op.seal.length > 0) {
      const sealed = this.#ownership.apply({ step: 'seal', slots: op.seal, peer: op.from, epoch: op.epoch });
      if (!sealed.ok) return this.#slotsResult(0, sealed.reason);
    }
    const written = this.#storeIngested(op);
    // A sealed import's data is all in: its copy is over. Otherwise the page may move the cursor (a copy of the key,
    // so the cursor never pins the entry's buffer).
    const last = op.kvs.at(-1);
    if (op.seal.length > 0) this.#cursors.clear(op.epoch);
    else if (last !== undefined) this.#cursors.advance(op.epoch, op.start, copyBytes(last.key));
    for (const session of op.sessions) this.#sessions.merge(session, this.#clockMs);
    return this.#slotsResult(written, '');
  }

  /**
   * Stores a page's keys under one new revision; returns how many it wrote. A page that says where it starts may
   * repeat keys already in (a coordinator that resumed behind the cursor, or a stale one's late page): a key this
   * group holds at the same or a newer version is kept, so a repeat changes nothing, not even the revision. A page
   * of unknown start (an entry logged before pages carried it) is stored as it was then, every key anew, so
   * replaying an old log gives the state it gave then.
   */
  #storeIngested(op: IngestOp): number {
    const keepHeld = op.start.kind !== 'unknown';
    const fresh = op.kvs.filter((kv) => !keepHeld || (this.#map.get(kv.key)?.version ?? 0) < kv.version);
    if (fresh.length === 0) return 0;
    const revision = ++this.#revision;
    for (const kv of fresh) {
      this.#map.set(copyBytes(kv.key), {
        value: copyBytes(kv.value),
        createRevision: revision,
        modRevision: revision,
        version: kv.version,
      });
    }
    return fresh.length;
  }

  #slotsResult(changed: number, reason: string): SlotsResult {
    return { kind: 'slots', revision: this.#revision, ok: reason === '', changed, reason };
  }

  /** Entries in `range`, materialised so the map can be modified afterwards (deletes). */
  #collect(range: KeyRange): [Uint8Array, StoredValue][] {
    return [...this.#scan(range)];
  }

  #compare(compare: Compare): boolean {
    const stored = this.#map.get(compare.key);
    const target = compare.target;
    let order: number;
    switch (target.kind) {
      case 'value':
        if (stored === undefined) return false; // etcd: a value comparison on a missing key always fails
        order = compareBytes(stored.value, target.value);
        break;
      case 'modRevision':
        order = (stored?.modRevision ?? 0) - target.revision;
        break;
      case 'createRevision':
        order = (stored?.createRevision ?? 0) - target.revision;
        break;
      case 'version':
        order = (stored?.version ?? 0) - target.version;
        break;
      case 'exists':
        order = Number(stored !== undefined) - Number(target.exists);
        break;
    }
    switch (compare.operator) {
      case 'equal':
        return order === 0;
      case 'notEqual':
        return order !== 0;
      case 'less':
        return order < 0;
      case 'greater':
        return order > 0;
    }
  }

  #txn(txn: TxnRequest): CommandResult {
    const succeeded = txn.compare.every((compare) => this.#compare(compare));
    const writeRevision = this.#revision + 1;
    let wrote = false;
    const partial: Omit<TxnOpResult, 'revision'>[] = [];
    for (const op of succeeded ? txn.success : txn.failure) {
      switch (op.kind) {
        case 'put':
          partial.push(this.#put(op, writeRevision));
          wrote = true;
          break;
        case 'delete': {
          const result = this.#delete(op);
          if (result.deleted > 0) wrote = true;
          partial.push(result);
          break;
        }
        case 'range': {
          // A range sees the transaction's earlier writes, like every later op.
          const { revision: _, ...result } = this.range(op.range, op.options);
          partial.push(result);
          break;
        }
      }
    }
    if (wrote) this.#revision = writeRevision;
    const revision = this.#revision;
    const responses = partial.map((result) => ({ ...result, revision }) as TxnOpResult);
    return { kind: 'txn', revision, succeeded, responses };
  }

  /** The current value of a key, if this group serves its slot. */
  get(key: BytesLike): KeyValue | undefined {
    const bytes = typeof key === 'string' ? toBytes(key) : key;
    const stored = this.#map.get(bytes);
    return stored === undefined || !this.#servesKey(bytes) ? undefined : toKeyValue(copyBytes(bytes), stored);
  }

  /** The client session table, least recently used first: what an import's sealing batch carries along. */
  sessions(): Session[] {
    return [...this.#sessions.sessions()];
  }

  /**
   * A page of the keys of slots this group is giving away at `epoch` (frozen, so the page never changes), in key
   * order after `after`: the data of an import batch. Refused unless every slot is leaving at that epoch, so what
   * a target seals is always data its source can no longer change.
   */
  exportSlots(request: SlotExportRequest): SlotExport {
    if (!(request.maxKeys >= 1 && request.maxBytes >= 1)) {
      return {
        ok: false,
        reason: `page bounds ${request.maxKeys} keys, ${request.maxBytes} bytes: both must be ≥ 1`,
      };
    }
    for (const slot of request.slots) {
      if (
        this.#ownership.stateOf(slot) !== 'leaving' ||
        this.#ownership.moveEpochOf(slot) !== request.epoch
      ) {
        return {
          ok: false,
          reason:
            `slot ${slot} is not leaving at epoch ${request.epoch} ` +
            `(it is ${this.#ownership.stateOf(slot)}, epoch ${this.#ownership.moveEpochOf(slot)})`,
        };
      }
    }
    const slots = new Set(request.slots);
    const kvs: IngestedKey[] = [];
    let bytes = 0;
    for (const [key, stored] of this.#map.entries(request.after)) {
      if (request.after !== undefined && compareBytes(key, request.after) === 0) continue;
      if (!slots.has(keySlot(key))) continue;
      if (
        kvs.length >= request.maxKeys ||
        (kvs.length > 0 && bytes + key.length + stored.value.length > request.maxBytes)
      ) {
        return { ok: true, kvs, more: true };
      }
      kvs.push({ key, value: stored.value, version: stored.version });
      bytes += key.length + stored.value.length;
    }
    return { ok: true, kvs, more: false };
  }

  /** Whether a read of `range` may run here: undefined, or where to go instead (a slot this group does not serve). */
  fenceRead(range: KeyRange): ReturnType<typeof fenceRange> {
    return fenceRange(range, this.#ownership);
  }

  /**
   * Keys in `range`, in order. O(log n + keys in range): the count covers the whole range even past the limit.
   * limit 0 means no limit; the serving layer bounds it (validate.ts, withDefaultRangeLimit).
   */
  range(range: KeyRange, options: RangeOptions): RangeResult {
    const kvs: KeyValue[] = [];
    let count = 0;
    for (const [key, stored] of this.#scan(range)) {
      count++;
      if (options.countOnly || (options.limit > 0 && kvs.length >= options.limit)) continue;
      kvs.push(toKeyValue(key, stored, options.keysOnly));
    }
    return {
      kind: 'range',
      revision: this.#revision,
      kvs,
      more: count > kvs.length && !options.countOnly,
      count,
    };
  }

  /** The whole state as deterministic bytes with a checksum (see snapshot-codec.ts). */
  snapshot(): Uint8Array {
    return encodeKvSnapshot({
      appliedIndex: this.#appliedIndex,
      revision: this.#revision,
      clockMs: this.#clockMs,
      entries: this.#map.entries(),
      sessions: this.#sessions.sessions(),
      ownership: this.#ownership.toSpec(),
      cursors: this.#cursors.toList(),
      dataFormat: this.#dataFormat,
    });
  }

  /** A state machine holding exactly the state a snapshot captured; throws KvCodecError on a bad snapshot. */
  static restore(
    bytes: Uint8Array,
    options: KvStateMachineOptions = kvStateMachineOptions(),
  ): KvStateMachine {
    const decoded = decodeKvSnapshot(bytes);
    const machine = new KvStateMachine(options);
    if (decoded.ownership !== undefined) {
      try {
        machine.#ownership = SlotOwnership.fromSpec(decoded.ownership);
      } catch (cause) {
        if (cause instanceof SlotOwnershipError)
          throw new KvCodecError(`snapshot: ${cause.message}`, { cause });
        throw cause;
      }
    }
    const ownership = machine.#ownership;
    for (const cursor of decoded.cursors) {
      // A cursor outlives no import (seal and abort clear it): one without an import under way is corruption.
      if (!ownership.importsAt(cursor.epoch)) {
        throw new KvCodecError(
          `snapshot holds a copy cursor for epoch ${cursor.epoch}, where nothing is importing`,
        );
      }
    }
    machine.#cursors = CopyCursors.fromList(decoded.cursors);
    for (const [key, stored] of decoded.entries) {
      // Release and abort drop a slot's keys: a key of a slot the group neither serves nor moves is corruption.
      if (!ownership.servesEverySlot && ownership.stateOf(keySlot(key)) === 'absent') {
        throw new KvCodecError(
          `snapshot holds key ${describeKey(key)} of slot ${keySlot(key)}, which it does not own`,
        );
      }
      machine.#map.set(key, stored);
    }
    try {
      machine.#sessions = SessionTable.restore(options.sessions, decoded.sessions);
    } catch (cause) {
      // An impossible session table is a bad snapshot like any other: one error type for callers to handle.
      if (cause instanceof SessionError) throw new KvCodecError(`snapshot: ${cause.message}`, { cause });
      throw cause;
    }
    machine.#revision = decoded.revision;
    machine.#appliedIndex = decoded.appliedIndex;
    machine.#clockMs = decoded.clockMs;
    machine.#dataFormat = decoded.dataFormat;
    return machine;
  }
}
