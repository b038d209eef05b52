// One member as the simulation runs it: the host loop around a RawNode, a simulated disk and the key-value state
// machine. The loop follows the core's contract exactly: send `messages`, write snapshot/entries/hard state, fsync
// when `mustSync`, only then send `messagesAfterPersist`, apply the snapshot and committed entries, serve reads
// whose index is applied, advance. A crash rebuilds the member from what its disk had synced.
// With `fsyncMaxMs` > 0 the fsync takes simulated time (like etcd's node loop while the application handles a
// Ready): messages keep arriving and are stepped, ticks and proposals go on, and the next Ready waits for advance().
// A crash in that window loses whatever of the Ready's writes had not reached the disk.
import {
  MemoryStorage,
  RawNode,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type Snapshot,
} from '../../src/raft/index.js';
import type { KvOutput } from '../lincheck/kv-model.js';
import type { InputObservation, TermView } from './checkers/term-invariants.js';
import { applyCoreMutations, type CoreMutations } from './core-mutations.js';
import type { SimDisk } from './disk.js';
import { SimKvStateMachine, decodeCommand, encodeCommand, type KvCommand } from './sim-kv-state-machine.js';
import type { Prng } from '../../src/random/prng.js';

export type NodeState = 'up' | 'down' | 'paused' | 'gone';

/** How the member runs; drawn per seed (swarm testing: different seeds stress different limits). */
export interface NodeSettings {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxEntriesBytesPerMessage: number;
  readonly maxInflightMessages: number;
  /** Backpressure on the leader's uncommitted tail (0 = off). */
  readonly maxUncommittedEntriesBytes: number;
  /** Take a state-machine snapshot when this many entries were applied since the last one (0 = never). */
  readonly compactEveryEntries: number;
  /** Log entries kept behind a snapshot, so slightly lagging followers need no snapshot. */
  readonly retainEntries: number;
  /**
   * Batch inputs like etcd's node loop: ticks, messages and client requests of one simulated ms are all stepped
   * before the host collects a Ready (the simulation calls flush()). Otherwise a Ready is handled after each input.
   */
  readonly batchInputs: boolean;
  /** Asynchronous persistence: a Ready's fsync completes after uniform [1, fsyncMaxMs] ms (0 = at once). */
  readonly fsyncMaxMs: number;
}

/**
 * Deliberate host bugs, off in every real run. The tests switch them on to show that the checkers catch what they
 * exist to catch: a host that acknowledges before its fsync loses committed entries; a host that serves reads from
 * its local state without ReadIndex returns stale values; a host that lets a vote out before its fsync votes twice.
 */
export interface HostBugs {
  readonly skipFsync?: boolean;
  readonly localReads?: boolean;
  /** Sends vote grants with the messages that need no fsync: a crash before the fsync lets a member vote twice. */
  readonly votesBeforeFsync?: boolean;
}

/** The outcome of a client write on the member that proposed it. */
export type WriteOutcome =
  | { readonly kind: 'ok'; readonly output: KvOutput }
  /** Another entry took the proposal's index: the proposal can never commit, the client may try again. */
  | { readonly kind: 'superseded' }
  /** The member can no longer tell (it crashed, or a snapshot covered the index): the outcome stays unknown. */
  | { readonly kind: 'lost' };

export type SubmitResult =
  | { readonly kind: 'proposed'; readonly index: number; readonly term: number }
  | { readonly kind: 'submitted' }
  | { readonly kind: 'redirect'; readonly leader: NodeId }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** What the member reports to the simulation: network, checkers, clients and the trace. */
export interface NodeHooks {
  /** Simulated time now, in ms. */
  clock(): number;
  send(from: SimNode, m: Message): void;
  /** The core handled one input (a message, a tick, a proposal, an advance, ...): the term rules look at it. */
  onInput(node: SimNode, observation: InputObservation): void;
  /** The host collected a Ready (before sending or writing anything of it). */
  onReady(node: SimNode, rd: Ready): void;
  /** After the writes of a Ready were issued, before the fsync: the log checkers look at the new entries. */
  onPersist(node: SimNode, rd: Ready): void;
  onSynced(node: SimNode, hardState: HardState | undefined): void;
  onSnapshotApplied(node: SimNode, snapshot: Snapshot): void;
  onEntryApplied(node: SimNode, entry: Entry): void;
  onCompacted(node: SimNode, snapshot: Snapshot): void;
  onWriteOutcome(req: string, outcome: WriteOutcome): void;
  onReadServed(readId: string, value: string | null, node: SimNode): void;
  /** A host-level invariant broke (e.g. an entry applied out of order, a request applied twice). */
  violation(node: SimNode, what: string): void;
  traceNode(node: SimNode, text: string): void;
}

interface PendingWrite {
  readonly req: string;
  readonly term: number;
}

/** Bounds on per-member client bookkeeping; beyond them a request is refused (the client retries or times out). */
const MAX_PENDING_WRITES = 1024;
const MAX_PENDING_READS = 256;

/** Whether a Ready grants a vote to a candidate (a candidate's own vote is no use to the trap: its requests wait). */
function castsVote(rd: Ready): boolean {
  if (rd.hardState === undefined || rd.hardState.vote === '') return false;
  const grants = (m: Message): boolean => m.type === 'voteResp' && !m.reject;
  return rd.messages.some(grants) || rd.messagesAfterPersist.some(grants);
}

/** The votesBeforeFsync host bug: vote grants move to the messages sent before the writes. */
function sendGrantsEarly(rd: Ready): Ready {
  const grant = (m: Message): boolean => m.type === 'voteResp' && !m.reject;
  if (!rd.messagesAfterPersist.some(grant)) return rd;
  return {
    ...rd,
    messages: [...rd.messages, ...rd.messagesAfterPersist.filter(grant)],
    messagesAfterPersist: rd.messagesAfterPersist.filter((m) => !grant(m)),
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const NONE: readonly Message[] = [];

function termView(raw: RawNode): TermView {
  const r = raw.raft;
  return { term: r.term, vote: r.vote, lead: r.lead, role: r.role };
}

export class SimNode {
  state: NodeState = 'down';
  /** Incremented on every start: checkers keep per-incarnation state (terms and commit never decrease). */
  incarnation = 0;
  raw: RawNode | undefined;
  storage: MemoryStorage | undefined;
  readonly sm = new SimKvStateMachine();
  appliedIndex = 0;
  /** The next simulated ms at which this member's clock ticks; members tick at slightly different rates. */
  nextTickAt = 0;
  /** The scenario's trap: crash after the next Ready's writes were issued but before they were synced. */
  crashOnNextPersist = false;
  /**
   * The scenario's vote trap: crash after the next Ready that grants a vote sent its `messages` and wrote its hard
   * state, before the fsync. A correct host has not let the grant out yet; a host that sends it early has promised
   * something its disk will forget.
   */
  crashOnNextVote = false;
  /** Asynchronous persistence: the Ready whose fsync is running, and when it completes. */
  private persisting: Ready | undefined;
  persistDoneAt = Infinity;
  /** Messages that arrived while paused; stepped in order on resume. Bounded like a socket buffer. */
  private inbox: Message[] = [];
  private pendingWrites = new Map<number, PendingWrite>();
  /** Reads waiting for their ReadState: read id (the context) → key. */
  private pendingReads = new Map<string, string>();
  /** Reads whose ReadState arrived, waiting until applied ≥ index. */
  private readyReads: { index: number; readId: string; key: string }[] = [];
  private snapshotIndex = 0;
  /** Batched mode: inputs were stepped and their Ready is not handled yet. */
  private dirty = false;
  /** Wall-clock the member was created, in simulated ms (the scenario uses it to retire failed additions). */
  readonly createdAt: number;

  constructor(
    readonly id: NodeId,
    readonly disk: SimDisk,
    readonly settings: NodeSettings,
    readonly tickEveryMs: number,
    private readonly rng: Prng,
    private readonly hooks: NodeHooks,
    now: number,
    private readonly bugs: HostBugs = {},
    private readonly mutations: CoreMutations = {},
  ) {
    this.createdAt = now;
  }

  /** Starts (or restarts) the member from what its disk holds durably. */
  start(now: number): void {
    const durable = this.disk.durable();
    const storage = new MemoryStorage();
    const snapIndex = durable.snapshot?.metadata.index ?? 0;
    if (durable.snapshot) storage.applySnapshot(durable.snapshot);
    storage.append(durable.entries);
    if (durable.hardState) {
      // The commit index is written without an fsync of its own, so the durable one may lag a snapshot that was
      // synced later. A snapshot only ever covers applied, hence committed, entries: it is a lower bound.
      const hs = durable.hardState;
      storage.setHardState(hs.commit < snapIndex ? { ...hs, commit: snapIndex } : hs);
    }
    this.sm.restore(durable.snapshot?.data ?? new Uint8Array());
    this.appliedIndex = snapIndex;
    this.snapshotIndex = snapIndex;
    const s = this.settings;
    this.raw = new RawNode({
      id: this.id,
      storage,
      electionTicks: s.electionTicks,
      heartbeatTicks: s.heartbeatTicks,
      applied: snapIndex,
      preVote: s.preVote,
      checkQuorum: s.checkQuorum,
      maxEntriesBytesPerMessage: s.maxEntriesBytesPerMessage,
      maxInflightMessages: s.maxInflightMessages,
      maxUncommittedEntriesBytes: s.maxUncommittedEntriesBytes,
      random: () => this.rng.float(),
    });
    applyCoreMutations(this.raw, this.mutations);
    this.storage = storage;
    this.state = 'up';
    this.dirty = false;
    this.incarnation++;
    this.nextTickAt = now + this.rng.int(0, this.tickEveryMs);
    this.processReady();
  }

  /** Power loss: unsynced writes beyond a random prefix are lost; volatile state is gone. */
  crash(): { kept: number; lost: number } {
    const result = this.disk.crash(this.rng);
    this.stopVolatile();
    this.state = 'down';
    return result;
  }

  /** The member is wiped and never comes back (it was removed, or its addition never took). */
  retire(): void {
    this.stopVolatile();
    this.state = 'gone';
  }

  private stopVolatile(): void {
    this.raw = undefined;
    this.storage = undefined;
    this.inbox = [];
    this.crashOnNextPersist = false;
    this.crashOnNextVote = false;
    this.persisting = undefined;
    this.persistDoneAt = Infinity;
    const lost = [...this.pendingWrites.values()];
    this.pendingWrites.clear();
    this.pendingReads.clear();
    this.readyReads = [];
    for (const p of lost) this.hooks.onWriteOutcome(p.req, { kind: 'lost' });
  }

  pause(): void {
    if (this.state === 'up') this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'up';
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) {
      if (this.state !== 'up') return; // crashed while catching up
      this.drive('step', m, (raw) => raw.step(m));
      this.afterInput();
    }
  }

  tick(): void {
    if (this.state !== 'up') return;
    this.drive('tick', undefined, (raw) => raw.tick());
    this.afterInput();
  }

  receive(m: Message): 'stepped' | 'buffered' | 'lost' {
    if (this.state === 'paused') {
      if (this.inbox.length >= 4096) return 'lost';
      this.inbox.push(m);
      return 'buffered';
    }
    if (this.state !== 'up') return 'lost';
    this.drive('step', m, (raw) => raw.step(m));
    this.afterInput();
    return 'stepped';
  }

  submitWrite(cmd: KvCommand): SubmitResult {
    if (this.state !== 'up') return { kind: 'unavailable', reason: this.state };
    if (this.pendingWrites.size >= MAX_PENDING_WRITES)
      return { kind: 'unavailable', reason: 'too many pending' };
    const raw = this.raw!;
    let res!: ReturnType<RawNode['propose']>;
    this.drive('propose', undefined, () => (res = raw.propose(encodeCommand(cmd))));
    if (!res.ok) {
      const leader = raw.raft.lead;
      if (res.reason === 'notLeader' && leader !== '' && leader !== this.id)
        return { kind: 'redirect', leader };
      return { kind: 'unavailable', reason: res.reason };
    }
    this.pendingWrites.set(res.index, { req: cmd.req, term: res.term });
    this.afterInput();
    return { kind: 'proposed', index: res.index, term: res.term };
  }

  /** Starts a ReadIndex round; the answer comes through onReadServed (or never: the client retries). */
  submitRead(readId: string, key: string): SubmitResult {
    if (this.state !== 'up') return { kind: 'unavailable', reason: this.state };
    // A ReadState may never come (its messages were lost): the oldest waiting read is forgotten first.
    if (this.bugs.localReads) {
      this.hooks.onReadServed(readId, this.sm.get(key), this);
      return { kind: 'submitted' };
    }
    if (this.pendingReads.size >= MAX_PENDING_READS)
      this.pendingReads.delete(this.pendingReads.keys().next().value!);
    this.pendingReads.set(readId, key);
    this.drive('readIndex', undefined, (raw) => raw.readIndex(encoder.encode(readId)));
    this.afterInput();
    return { kind: 'submitted' };
  }

  /** Asks the leader to hand over to `transferee` (only a leader acts on it). */
  transferLeadership(transferee: NodeId): void {
    if (this.state !== 'up') return;
    this.drive('transferLeadership', undefined, (raw) => raw.transferLeadership(transferee));
    this.afterInput();
  }

  proposeConfChange(type: 'addLearner' | 'promote' | 'remove', nodeId: NodeId): boolean {
    if (this.state !== 'up') return false;
    let ok = false;
    this.drive('proposeConfChange', undefined, (raw) => (ok = raw.proposeConfChange({ type, nodeId }).ok));
    this.afterInput();
    return ok;
  }

  reportUnreachable(to: NodeId): void {
    if (this.state !== 'up') return;
    this.drive('reportUnreachable', undefined, (raw) => raw.reportUnreachable(to));
    this.afterInput();
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    if (this.state !== 'up') return;
    this.drive('reportSnapshot', undefined, (raw) => raw.reportSnapshot(to, ok));
    this.afterInput();
  }

  /**
   * Runs one input through the core and shows the term rules what it did: the member's term, vote, leader and role
   * before and after, and the messages the input queued (the core only ever appends to its outboxes in between).
   */
  private drive(input: string, stepped: Message | undefined, fn: (raw: RawNode) => void): void {
    const raw = this.raw!;
    const r = raw.raft;
    const before = termView(raw);
    const queued = r.msgs.length;
    const queuedAfterPersist = r.msgsAfterPersist.length;
    fn(raw);
    let sent: readonly Message[] = NONE;
    if (r.msgs.length > queued || r.msgsAfterPersist.length > queuedAfterPersist)
      sent = [...r.msgs.slice(queued), ...r.msgsAfterPersist.slice(queuedAfterPersist)];
    this.hooks.onInput(this, {
      member: this.id,
      stepped,
      input,
      before,
      after: termView(raw),
      sent,
      checkQuorum: this.settings.checkQuorum,
    });
  }

  private afterInput(): void {
    if (this.settings.batchInputs) this.dirty = true;
    else this.processReady();
  }

  /** Batched mode: handles the Ready of everything stepped since the last flush. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.processReady();
  }

  /** Runs the host loop until the core has nothing more to do (or, asynchronously, until a Ready must sync). */
  processReady(): void {
    while (this.state === 'up' && this.persisting === undefined && this.raw!.hasReady())
      this.handleReady(this.raw!);
  }

  /** Asynchronous persistence: the running fsync completed (the simulation calls this at persistDoneAt). */
  completePersist(): void {
    const rd = this.persisting;
    if (rd === undefined || this.state !== 'up') return;
    this.persisting = undefined;
    this.persistDoneAt = Infinity;
    this.finishReady(this.raw!, rd);
    if (this.settings.batchInputs) this.dirty = true;
    else this.processReady();
  }

  private handleReady(raw: RawNode): void {
    let rd = raw.ready();
    this.hooks.onReady(this, rd);
    if (this.bugs.votesBeforeFsync) rd = sendGrantsEarly(rd);
    for (const m of rd.messages) this.hooks.send(this, m);
    if (rd.snapshot) this.disk.write({ kind: 'installSnapshot', snapshot: rd.snapshot });
    for (const entry of rd.entries) this.disk.write({ kind: 'entry', entry });
    if (rd.hardState) this.disk.write({ kind: 'hardState', hardState: rd.hardState });
    this.hooks.onPersist(this, rd);
    // The trap waits for a Ready that writes log data: losing only a commit index would be a dull crash.
    if (this.crashOnNextPersist && (rd.snapshot !== undefined || rd.entries.length > 0)) {
      const { kept, lost } = this.crash();
      this.hooks.traceNode(this, `CRASH during persist: kept ${kept} unsynced writes, lost ${lost}`);
      return;
    }
    if (this.crashOnNextVote && castsVote(rd)) {
      const { kept, lost } = this.crash();
      this.hooks.traceNode(
        this,
        `CRASH after casting a vote, before its fsync: kept ${kept} unsynced writes, lost ${lost}`,
      );
      return;
    }
    if (rd.mustSync && this.settings.fsyncMaxMs > 0) {
      this.persisting = rd;
      this.persistDoneAt = this.hooks.clock() + this.rng.int(1, this.settings.fsyncMaxMs);
      return;
    }
    this.finishReady(raw, rd);
  }

  /** The writes of `rd` were issued: fsync them, then let out what had to wait, apply, and advance. */
  private finishReady(raw: RawNode, rd: Ready): void {
    if (rd.mustSync && !this.bugs.skipFsync) {
      this.disk.sync();
      this.hooks.onSynced(this, this.disk.durableHardState());
    }
    for (const m of rd.messagesAfterPersist) this.hooks.send(this, m);
    if (rd.snapshot) this.applySnapshot(rd.snapshot);
    for (const entry of rd.committedEntries) this.applyEntry(entry);
    for (const rs of rd.readStates) {
      const readId = decoder.decode(rs.context);
      const key = this.pendingReads.get(readId);
      if (key === undefined) continue;
      this.pendingReads.delete(readId);
      this.readyReads.push({ index: rs.index, readId, key });
    }
    this.drive('advance', undefined, () => raw.advance(rd));
    this.serveReads();
    this.maybeCompact(raw);
  }

  private applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    this.sm.restore(snapshot.data);
    this.appliedIndex = index;
    this.snapshotIndex = index;
    this.hooks.onSnapshotApplied(this, snapshot);
    // Proposals covered by the snapshot: whether they made it is not visible from here.
    for (const [i, p] of this.pendingWrites) {
      if (i <= index) {
        this.pendingWrites.delete(i);
        this.hooks.onWriteOutcome(p.req, { kind: 'lost' });
      }
    }
  }

  private applyEntry(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1) {
      this.hooks.violation(
        this,
        `applied entry ${entry.index} after ${this.appliedIndex}: entries must apply in order`,
      );
    }
    this.appliedIndex = entry.index;
    this.hooks.onEntryApplied(this, entry);
    let applied: { req: string; output: KvOutput } | undefined;
    if (entry.type === 'normal' && entry.data.byteLength > 0) {
      const cmd = decodeCommand(entry.data);
      const res = this.sm.apply(cmd);
      if (res.kind === 'duplicate') {
        this.hooks.violation(this, `request ${cmd.req} applied twice (again at index ${entry.index})`);
      } else {
        applied = { req: cmd.req, output: res.output };
      }
    }
    const pending = this.pendingWrites.get(entry.index);
    if (pending === undefined) return;
    this.pendingWrites.delete(entry.index);
    if (pending.term !== entry.term) {
      this.hooks.onWriteOutcome(pending.req, { kind: 'superseded' });
    } else if (applied?.req === pending.req) {
      this.hooks.onWriteOutcome(pending.req, { kind: 'ok', output: applied.output });
    } else {
      this.hooks.violation(
        this,
        `entry ${entry.index}@${entry.term} is not the proposal ${pending.req} made there`,
      );
      this.hooks.onWriteOutcome(pending.req, { kind: 'lost' });
    }
  }

  private serveReads(): void {
    if (this.readyReads.length === 0) return;
    const waiting: { index: number; readId: string; key: string }[] = [];
    for (const r of this.readyReads) {
      if (r.index <= this.appliedIndex) this.hooks.onReadServed(r.readId, this.sm.get(r.key), this);
      else waiting.push(r);
    }
    this.readyReads = waiting;
  }

  private maybeCompact(raw: RawNode): void {
    const every = this.settings.compactEveryEntries;
    if (every <= 0 || this.appliedIndex - this.snapshotIndex < every) return;
    raw.compact(this.sm.snapshot(), this.settings.retainEntries);
    const snapshot = this.storage!.snapshot();
    this.snapshotIndex = snapshot.metadata.index;
    this.disk.compact(snapshot);
    this.hooks.onCompacted(this, snapshot);
  }
}
