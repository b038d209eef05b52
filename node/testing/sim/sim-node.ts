// One member as the simulation runs it: the node's own code — RaftReplica (the host loop), RaftDiskStorage (WAL and
// snapshots) and KvStateMachine — on a simulated disk (sim-file-system.ts) and a simulated clock (sim-process.ts).
// The simulation owns only what surrounds a process: its network, its disk's physics, when it pauses or dies, and
// the clients. What it observes it observes at the boundaries the node itself has: the core's inputs and Readys
// (instrumented RawNode), the persistence port, the state machine's applies, the messages sent.
// A crash kills the process at once (nothing of it runs again, whatever it was awaiting) and the disk loses what was
// not synced; a restart opens the storage again and rebuilds the member exactly as node-process.ts does.
import pino, { type Logger } from 'pino';
import {
  RawNode,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type Snapshot,
  type MemoryStorage,
} from '../../src/raft/index.js';
import { encodeCommand } from '../../src/kv/command-codec.js';
import {
  KvStateMachine,
  kvStateMachineOptions,
  type KvStateMachineOptions,
} from '../../src/kv/state-machine.js';
import type { ApplyOutcome, Command, Operation } from '../../src/kv/types.js';
import { DiskPersistence } from '../../src/process/disk-persistence.js';
import { MemberDirectory, type MemberInfo } from '../../src/replica/member-directory.js';
import { bootstrapLog, restoreLog } from '../../src/replica/member-log.js';
import {
  NotLeaderError,
  ProposalDroppedError,
  ProposalRefusedError,
  ReplicaOverloadedError,
} from '../../src/replica/errors.js';
import {
  RaftReplica,
  type RaftPersistence,
  type ReplicatedStateMachine,
} from '../../src/replica/raft-replica.js';
import { RaftDiskStorage } from '../../src/storage/raft-disk-storage.js';
import type { DirLock } from '../../src/storage/dir-lock.js';
import type { KvOutput } from '../lincheck/kv-model.js';
import type { KvInput } from '../lincheck/kv-types.js';
import type { InputObservation, TermView } from './checkers/term-invariants.js';
import { PromisedLog, type RecoveredView } from './checkers/promised-log.js';
import { applyCoreMutations, type CoreMutations } from './core-mutations.js';
import { SimFileSystem, type SimCrashReport, type SimDiskOperation } from './sim-file-system.js';
import { SimProcess, type SimScheduler } from './sim-process.js';
import type { Prng } from '../../src/random/prng.js';

export type NodeState = 'starting' | 'up' | 'down' | 'paused' | 'gone';

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
   * Inputs of one simulated ms reach the member before its host loop runs (like a busy process reading several
   * sockets at once): one Ready for all of them. Otherwise the loop runs after each input.
   */
  readonly batchInputs: boolean;
  /** An fsync takes uniform [1, fsyncMaxMs] simulated ms (0 = at once). */
  readonly fsyncMaxMs: number;
}

/**
 * Deliberate host bugs, off in every real run. The tests switch them on to show that the checkers catch what they
 * exist to catch. Each is planted at a boundary of the real host loop, the way the bug would show there:
 * - noFsync: the persistence port never fsyncs (the node's --fsync=false): acks promise what a crash loses.
 * - acksBeforeSync: the loop lets out the messages that must wait for the fsync (append and vote responses) with
 *   the ones sent before it, as a loop that sends before awaiting its persist would.
 * - applyUncommitted: the loop applies (and answers clients for) the entries it is persisting before they commit.
 * - localReads: reads are served from the local state machine without ReadIndex.
 */
export interface HostBugs {
  readonly noFsync?: boolean;
  readonly acksBeforeSync?: boolean;
  readonly applyUncommitted?: boolean;
  readonly localReads?: boolean;
}

/** The outcome of a client write on the member that took it. */
export type WriteOutcome =
  | { readonly kind: 'ok'; readonly output: KvOutput }
  /** Nothing was proposed, or the proposal's index went to another entry: it can never apply; retry is safe. */
  | { readonly kind: 'superseded'; readonly why: string }
  /** The member can no longer tell (it crashed, timed out, or a snapshot covered the index): unknown. */
  | { readonly kind: 'lost'; readonly why: string };

export type SubmitResult =
  | { readonly kind: 'submitted' }
  | { readonly kind: 'redirect'; readonly leader: NodeId }
  | { readonly kind: 'unavailable'; readonly reason: string };

export type WriteInput = Exclude<KvInput, { op: 'get' }>;

/** One client write: its request id names the operation (and its session) in the whole history. */
export interface KvCommand {
  readonly req: string;
  readonly client: number;
  readonly input: WriteInput;
}

/** What the member reports to the simulation: network, checkers, clients and the trace. */
export interface NodeHooks {
  readonly scheduler: SimScheduler;
  send(from: SimNode, m: Message): void;
  /** The core handled one input (a message, a tick, a proposal, an advance, ...): the term rules look at it. */
  onInput(node: SimNode, observation: InputObservation): void;
  /** The host collected a Ready (before sending or writing anything of it). */
  onReady(node: SimNode, rd: Ready): void;
  /** The host handed a Ready's writes to its storage, before they are synced: the log checkers look at them. */
  onPersist(node: SimNode, rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>): void;
  onSynced(node: SimNode, hardState: HardState | undefined): void;
  onSnapshotApplied(node: SimNode, snapshot: Snapshot): void;
  onEntryApplied(node: SimNode, entry: Entry): void;
  onCompacted(node: SimNode, snapshot: Snapshot): void;
  /** A (re)started member is serving; `recovered` is what its storage gave back (undefined: it bootstrapped). */
  onStarted(node: SimNode, recovered: RecoveredView | undefined): void;
  onWriteOutcome(req: string, outcome: WriteOutcome): void;
  onReadServed(readId: string, value: string | null, node: SimNode): void;
  /** A host-level invariant broke (e.g. an entry applied out of order, the loop failed). */
  violation(node: SimNode, what: string): void;
  traceNode(node: SimNode, text: string): void;
  /** Whether a trace is being written (the member's own logs go into it then). */
  readonly tracing: boolean;
}

/** Bound on reads a member keeps waiting for their ReadIndex; the client asks again after readRetryMs anyway. */
const MAX_PENDING_READS = 256;
/** A write not applied in this long is answered as unknown (the client gives up well before). */
const REQUEST_TIMEOUT_MS = 60_000;

/** Whether a Ready grants a vote to a candidate (a candidate's own vote is no use to the trap: its requests wait). */
function castsVote(rd: Ready): boolean {
  if (rd.hardState === undefined || rd.hardState.vote === '') return false;
  const grants = (m: Message): boolean => m.type === 'voteResp' && !m.reject;
  return rd.messages.some(grants) || rd.messagesAfterPersist.some(grants);
}

function termView(raw: RawNode): TermView {
  const r = raw.raft;
  return { term: r.term, vote: r.vote, lead: r.lead, role: r.role };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NONE: readonly Message[] = [];

/**
 * The one group of the simulation owns every slot. Every operation is a session of its own (toCommand), so sessions
 * live only as long as a retry of it can come (a client gives up within seconds); the default 15-minute sessions
 * would pile up in every snapshot of a run.
 */
const SIM_SESSIONS = { ttlMs: 5_000, maxSessions: 2_000, maxResultsPerSession: 1 };
const machineOptions = (): KvStateMachineOptions => kvStateMachineOptions(SIM_SESSIONS);

/** The lincheck model's write as the node's command; its request id is a one-request session (retries dedupe). */
function toCommand(cmd: KvCommand, timestampMs: number): Command {
  const key = encoder.encode(cmd.input.key);
  let op: Operation;
  switch (cmd.input.op) {
    case 'put':
      op = { kind: 'put', key, value: encoder.encode(cmd.input.value), prevKv: false };
      break;
    case 'delete':
      op = { kind: 'delete', range: { kind: 'key', key }, prevKv: false };
      break;
    case 'cas':
      op = {
        kind: 'txn',
        compare: [
          cmd.input.expected === null
            ? { key, operator: 'equal', target: { kind: 'exists', exists: false } }
            : {
                key,
                operator: 'equal',
                target: { kind: 'value', value: encoder.encode(cmd.input.expected) },
              },
        ],
        success: [{ kind: 'put', key, value: encoder.encode(cmd.input.value), prevKv: false }],
        failure: [],
      };
      break;
  }
  return { timestampMs, session: { clientId: cmd.req, sequence: 1 }, op };
}

/** The node's answer as the lincheck model's output; undefined when it is not an answer the model knows. */
function toOutput(input: WriteInput, outcome: ApplyOutcome): KvOutput | undefined {
  const r = outcome.result;
  if (input.op === 'put' && r.kind === 'put') return { op: 'put' };
  if (input.op === 'delete' && r.kind === 'delete') return { op: 'delete', deleted: r.deleted > 0 };
  if (input.op === 'cas' && r.kind === 'txn') return { op: 'cas', succeeded: r.succeeded };
  return undefined;
}

/** The state machine as the replica sees it, telling the simulation about every entry it applies. */
class ObservedMachine implements ReplicatedStateMachine<ApplyOutcome> {
  constructor(
    readonly kv: KvStateMachine,
    private readonly onApplied: (index: number) => void,
  ) {}

  get appliedIndex(): number {
    return this.kv.appliedIndex;
  }

  applyEntry(index: number, data: Uint8Array): ApplyOutcome | undefined {
    const result = this.kv.applyEntry(index, data);
    this.onApplied(index);
    return result;
  }

  applyNoop(index: number): void {
    this.kv.applyNoop(index);
    this.onApplied(index);
  }

  snapshot(): Uint8Array {
    return this.kv.snapshot();
  }
}

/** The directory lock guards against a second process; the simulation runs each member's incarnations in turn. */
function simLock(dir: string): Promise<DirLock> {
  return Promise.resolve({ file: `${dir}/LOCK`, pid: 1, release: () => Promise.resolve() });
}

export class SimNode {
  state: NodeState = 'down';
  /** Incremented on every start: checkers keep per-incarnation state (terms and commit never decrease). */
  incarnation = 0;
  raw: RawNode | undefined;
  storage: MemoryStorage | undefined;
  replica: RaftReplica<ApplyOutcome> | undefined;
  /** What this member's storage has promised is durable (the checkers' view of its disk). */
  readonly promised = new PromisedLog();
  /** The scenario's trap: crash after the next Ready's writes were issued but before they were synced. */
  crashOnNextPersist = false;
  /**
   * The scenario's vote trap: crash after the next Ready that grants a vote sent its `messages` and wrote its hard
   * state, before the fsync. A correct host has not let the grant out yet; a host that sends it early has promised
   * something its disk will forget.
   */
  crashOnNextVote = false;
  /** Wall-clock the member was created, in simulated ms (the scenario uses it to retire failed additions). */
  readonly createdAt: number;
  private process: SimProcess | undefined;
  private diskStorage: RaftDiskStorage | undefined;
  /** Messages that arrived while paused; stepped in order on resume. Bounded like a socket buffer. */
  private inbox: Message[] = [];
  /** Writes this incarnation took and has not answered: reported lost when it dies. */
  private readonly pendingWrites = new Set<string>();
  private readonly pendingReads = new Set<string>();
  /** Committed entries of the Readys handed out and not yet applied, by index: what the state machine applies. */
  private committedByIndex = new Map<number, Entry>();
  /** The snapshot of the last Ready that carried one: the state machine restored next is its. */
  private readySnapshot: Snapshot | undefined;
  /** The Ready the vote trap fires on (its persist's fsync). */
  private voteTrapReady: Ready | undefined;
  /** Crash when the disk is next asked to fsync (the traps): the writes are issued, the sync never completes. */
  private crashAtNextSync: string | undefined;
  /** Readys the host bugs rewrote, to hand the core back the one it gave out. */
  private readonly rewritten = new WeakMap<Ready, Ready>();
  private readonly logger: Logger;

  /** The member's own disk: it outlives every incarnation, and loses what was not synced at each crash. */
  readonly disk: SimFileSystem;

  constructor(
    readonly id: NodeId,
    /** The founders' directory when this member bootstraps the group; undefined for a member added later. */
    private readonly founders: readonly MemberInfo[] | undefined,
    readonly settings: NodeSettings,
    readonly tickEveryMs: number,
    private readonly rng: Prng,
    private readonly hooks: NodeHooks,
    now: number,
    private readonly bugs: HostBugs = {},
    private readonly mutations: CoreMutations = {},
  ) {
    this.createdAt = now;
    this.logger = pino(
      { level: hooks.tracing ? 'info' : 'silent', base: undefined, timestamp: false },
      { write: (line: string) => this.hooks.traceNode(this, `log ${line.trim()}`) },
    );
    this.disk = new SimFileSystem({ delay: (kind) => this.diskDelay(kind) });
  }

  get dir(): string {
    return `/${this.id}`;
  }

  get appliedIndex(): number {
    return this.replica?.stateMachine.appliedIndex ?? 0;
  }

  /** Starts (or restarts) the member from what its disk holds: the real storage opens and recovers. */
  start(): void {
    this.state = 'starting';
    this.incarnation++;
    const proc = new SimProcess(this.hooks.scheduler);
    this.process = proc;
    this.boot(proc).catch((err: unknown) => {
      if (!proc.alive) return;
      // A full disk stops a start as it stops a running member: the process exits and is restarted later.
      if (/ENOSPC/.test(describe(err))) {
        this.hooks.traceNode(this, `EXIT at start: the disk is full (${describe(err)})`);
        this.exit();
        return;
      }
      this.hooks.violation(this, `the member failed to start: ${describe(err)}`);
    });
  }

  private async boot(proc: SimProcess): Promise<void> {
    const storage = await RaftDiskStorage.open(this.dir, {
      fs: this.disk,
      acquireLock: simLock,
      identity: { clusterId: 'sim', shardId: '0', memberName: this.id, nodeId: this.id },
      randomBytes: (n) => Uint8Array.from({ length: n }, () => this.rng.int(0, 255)),
      now: () => this.hooks.scheduler.now(),
      // Small segments, so seeds roll, seal and compact WAL segments as a long-lived member does.
      segmentBytes: 8 * 1024,
    });
    if (!proc.alive) return;
    this.diskStorage = storage;
    let memory: MemoryStorage;
    let kv: KvStateMachine;
    let members: readonly MemberInfo[] = this.founders ?? [];
    let recovered: RecoveredView | undefined;
    if (storage.freshlyCreated && this.founders) {
      kv = new KvStateMachine(machineOptions());
      memory = bootstrapLog(this.founders, kv.snapshot());
      const hardState = memory.initialState().hardState;
      this.promised.write({ kind: 'installSnapshot', snapshot: memory.snapshot() });
      this.promised.write({ kind: 'hardState', hardState });
      await storage.append(hardState, [], memory.snapshot());
      if (!proc.alive) return;
      this.promised.sync();
    } else {
      recovered = storage.takeRecoveredState();
      const broken = this.promised.brokenPromise(recovered);
      if (broken) this.hooks.violation(this, `durability: ${broken}`);
      this.promised.reset(recovered);
      const restored = restoreLog(recovered, (bytes) => KvStateMachine.restore(bytes, machineOptions()));
      memory = restored.memory;
      kv = restored.machine ?? new KvStateMachine(machineOptions());
      if (restored.members.length > 0) members = restored.members;
    }
    const s = this.settings;
    const raw = new RawNode({
      id: this.id,
      storage: memory,
      electionTicks: s.electionTicks,
      heartbeatTicks: s.heartbeatTicks,
      applied: memory.snapshot().metadata.index,
      preVote: s.preVote,
      checkQuorum: s.checkQuorum,
      maxEntriesBytesPerMessage: s.maxEntriesBytesPerMessage,
      maxInflightMessages: s.maxInflightMessages,
      maxUncommittedEntriesBytes: s.maxUncommittedEntriesBytes,
      random: () => this.rng.float(),
    });
    applyCoreMutations(raw, this.mutations);
    this.instrument(raw);
    this.raw = raw;
    this.storage = memory;
    this.committedByIndex = new Map();
    const replica = new RaftReplica<ApplyOutcome>({
      node: raw,
      storage: memory,
      persistence: this.observedPersistence(new DiskPersistence(storage, !this.bugs.noFsync)),
      machine: this.observe(kv),
      restoreMachine: (bytes) => {
        if (this.readySnapshot) this.hooks.onSnapshotApplied(this, this.readySnapshot);
        return this.observe(KvStateMachine.restore(bytes, machineOptions()));
      },
      directory: new MemberDirectory(members),
      send: (messages) => {
        for (const m of messages) this.hooks.send(this, m);
      },
      tickMs: this.tickEveryMs,
      electionTicks: s.electionTicks,
      snapshotEntries: s.compactEveryEntries > 0 ? s.compactEveryEntries : Number.MAX_SAFE_INTEGER,
      snapshotRetainEntries: s.retainEntries,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      maxQueuedRequests: 10_000,
      maxBatchEntries: 256,
      logger: this.logger,
      clock: proc.clock(),
      random: () => this.rng.float(),
      onFatal: (err) => this.onFatal(proc, err),
    });
    this.replica = replica;
    this.state = 'up';
    replica.start();
    this.hooks.onStarted(this, recovered);
  }

  /** The replica's loop failed. A full disk ends the process like any fatal disk error; anything else is a bug. */
  private onFatal(proc: SimProcess, err: Error): void {
    if (!proc.alive) return;
    if (err.name === 'StopSimulation') return;
    if (/ENOSPC/.test(err.message)) {
      this.hooks.traceNode(this, `EXIT: the disk is full (${err.message})`);
      this.exit();
      return;
    }
    this.hooks.violation(this, `the replica loop failed: ${describe(err)}`);
  }

  /** Power loss: unsynced writes beyond a random prefix are lost, torn maybe; the process is gone. */
  crash(): SimCrashReport {
    this.stopProcess();
    this.state = 'down';
    this.promised.crash();
    return this.disk.crash(this.rng);
  }

  /** The process exits (a fatal disk error, kill -9): the machine stays up, so nothing written is lost. */
  exit(): void {
    this.stopProcess();
    this.state = 'down';
    this.promised.crash();
    this.disk.killProcess();
  }

  /** The member is wiped and never comes back (it was removed, or its addition never took). */
  retire(): void {
    this.stopProcess();
    this.state = 'gone';
  }

  private stopProcess(): void {
    this.process?.kill();
    this.process = undefined;
    this.raw = undefined;
    this.storage = undefined;
    this.replica = undefined;
    this.diskStorage = undefined;
    this.inbox = [];
    this.crashOnNextPersist = false;
    this.crashOnNextVote = false;
    this.crashAtNextSync = undefined;
    this.voteTrapReady = undefined;
    this.pendingReads.clear();
    const lost = [...this.pendingWrites];
    this.pendingWrites.clear();
    for (const req of lost) this.hooks.onWriteOutcome(req, { kind: 'lost', why: 'the member died' });
  }

  pause(): void {
    if (this.state !== 'up') return;
    this.state = 'paused';
    this.process!.pause();
  }

  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'up';
    this.process!.resume();
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) this.replica?.deliver(m);
  }

  receive(m: Message): 'stepped' | 'buffered' | 'lost' {
    if (this.state === 'paused') {
      if (this.inbox.length >= 4096) return 'lost';
      this.inbox.push(m);
      return 'buffered';
    }
    if (this.state !== 'up') return 'lost';
    this.replica!.deliver(m);
    return 'stepped';
  }

  submitWrite(cmd: KvCommand): SubmitResult {
    if (this.state !== 'up') return { kind: 'unavailable', reason: this.state };
    const raw = this.raw!;
    const leader = raw.raft.lead;
    if (leader !== this.id) {
      if (leader !== '') return { kind: 'redirect', leader };
      return { kind: 'unavailable', reason: 'no leader' };
    }
    const proc = this.process!;
    const data = encodeCommand(toCommand(cmd, this.hooks.scheduler.now()));
    this.pendingWrites.add(cmd.req);
    const settle = (outcome: WriteOutcome): void => {
      if (!proc.alive || !this.pendingWrites.delete(cmd.req)) return;
      this.hooks.onWriteOutcome(cmd.req, outcome);
    };
    this.replica!.propose(data).then(
      (result) => {
        const output = result === undefined ? undefined : toOutput(cmd.input, result);
        if (result?.duplicate) {
          this.hooks.violation(this, `request ${cmd.req} was applied twice (answered from its session)`);
        } else if (output === undefined) {
          this.hooks.violation(this, `request ${cmd.req} got an answer the model does not know`);
        }
        if (output !== undefined) settle({ kind: 'ok', output });
      },
      (err: unknown) => {
        // Refused before it was proposed, or its index went to another entry: it can never apply.
        const safe =
          err instanceof NotLeaderError ||
          err instanceof ProposalDroppedError ||
          err instanceof ProposalRefusedError ||
          err instanceof ReplicaOverloadedError;
        settle({ kind: safe ? 'superseded' : 'lost', why: describe(err) });
      },
    );
    return { kind: 'submitted' };
  }

  /** Starts a linearizable read; the answer comes through onReadServed (or never: the client asks again). */
  submitRead(readId: string, key: string): SubmitResult {
    if (this.state !== 'up') return { kind: 'unavailable', reason: this.state };
    if (this.bugs.localReads) {
      this.hooks.onReadServed(readId, this.read(key), this);
      return { kind: 'submitted' };
    }
    if (this.pendingReads.size >= MAX_PENDING_READS) return { kind: 'unavailable', reason: 'too many reads' };
    const proc = this.process!;
    this.pendingReads.add(readId);
    this.replica!.linearizableBarrier().then(
      () => {
        if (!proc.alive || !this.pendingReads.delete(readId)) return;
        this.hooks.onReadServed(readId, this.read(key), this);
      },
      () => {
        this.pendingReads.delete(readId);
      },
    );
    return { kind: 'submitted' };
  }

  private read(key: string): string | null {
    const kv = (this.replica!.stateMachine as ObservedMachine).kv.get(key);
    return kv === undefined ? null : decoder.decode(kv.value);
  }

  /** Asks the leader to hand over to `transferee` (only a leader acts on it). */
  transferLeadership(transferee: NodeId): void {
    if (this.state !== 'up') return;
    this.replica!.transferLeadership(transferee).then(
      (to) => this.hooks.traceNode(this, `handed leadership to ${to}`),
      (err: unknown) => this.hooks.traceNode(this, `transfer to ${transferee} failed: ${describe(err)}`),
    );
  }

  /** Proposes a membership change; true when this member leads and queued it (the outcome is traced). */
  proposeConfChange(type: 'addLearner' | 'promote' | 'remove', nodeId: NodeId): boolean {
    if (this.state !== 'up' || this.raw!.raft.lead !== this.id) return false;
    this.replica!.proposeConfChange({ type, nodeId }).then(
      () => this.hooks.traceNode(this, `CONF ${type} ${nodeId} applied`),
      (err: unknown) => this.hooks.traceNode(this, `CONF ${type} ${nodeId} failed: ${describe(err)}`),
    );
    return true;
  }

  reportUnreachable(to: NodeId): void {
    if (this.state === 'up') this.replica!.reportUnreachable(to);
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    if (this.state === 'up') this.replica!.reportSnapshot(to, ok);
  }

  // ---- what the simulation sees of the running code ----

  /** The disk's answer to "how long does this take": fsync latency, a frozen process, the traps. */
  private diskDelay(kind: SimDiskOperation): Promise<void> | undefined {
    const proc = this.process;
    // Operations of the storage's open before the process object exists are this incarnation's too.
    if (proc === undefined) return undefined;
    if (kind === 'sync' && this.crashAtNextSync !== undefined) {
      const why = this.crashAtNextSync;
      this.crashAtNextSync = undefined;
      // The writes were issued; power goes before the fsync completes. Nothing of this process runs on.
      this.hooks.scheduler.at(this.hooks.scheduler.now(), () => {
        if (this.process !== proc) return;
        const { keptWrites, lostWrites, tornWrites } = this.crash();
        this.hooks.traceNode(
          this,
          `CRASH ${why}, before its fsync: kept ${keptWrites} unsynced writes (${tornWrites} torn), lost ${lostWrites}`,
        );
      });
      return new Promise(() => undefined);
    }
    const ms =
      kind === 'sync' && this.settings.fsyncMaxMs > 0 ? this.rng.int(1, this.settings.fsyncMaxMs) : 0;
    if (ms === 0 && !proc.paused) return undefined;
    return proc.sleep(ms);
  }

  private observe(kv: KvStateMachine): ObservedMachine {
    return new ObservedMachine(kv, (index) => {
      const entry = this.committedByIndex.get(index);
      this.committedByIndex.delete(index);
      if (entry === undefined) {
        this.hooks.violation(this, `applied entry ${index}, which no Ready handed out as committed`);
        return;
      }
      this.hooks.onEntryApplied(this, entry);
    });
  }

  private observedPersistence(inner: RaftPersistence): RaftPersistence {
    return {
      persist: async (rd, sync) => {
        const proc = this.process;
        if (rd.snapshot) this.promised.write({ kind: 'installSnapshot', snapshot: rd.snapshot });
        for (const entry of rd.entries) this.promised.write({ kind: 'entry', entry });
        if (rd.hardState) this.promised.write({ kind: 'hardState', hardState: rd.hardState });
        this.hooks.onPersist(this, rd);
        // The trap waits for a Ready that writes log data: losing only a commit index would be a dull crash.
        if (this.crashOnNextPersist && (rd.snapshot !== undefined || rd.entries.length > 0)) {
          this.crashOnNextPersist = false;
          this.crashAtNextSync = 'during a persist';
        }
        if (this.crashOnNextVote && rd === this.voteTrapReady) {
          this.crashOnNextVote = false;
          this.crashAtNextSync = 'after casting a vote';
        }
        await inner.persist(rd, sync);
        if (proc !== this.process) return;
        // What the host believes: with the noFsync bug it believes wrongly, and the restart shows it.
        if (sync) {
          this.promised.sync();
          this.hooks.onSynced(this, rd.hardState);
        }
      },
      saveSnapshot: async (snapshot, compactIndex) => {
        const proc = this.process;
        await inner.saveSnapshot(snapshot, compactIndex);
        if (proc !== this.process) return;
        this.promised.compact(snapshot);
        this.hooks.onCompacted(this, snapshot);
      },
    };
  }

  /**
   * Shows the term rules every input the core steps (the member's term, vote, leader and role before and after, and
   * the messages it queued), the checkers every Ready, and plants the host bugs between the core and the loop.
   */
  private instrument(raw: RawNode): void {
    const observe = <A extends unknown[], T>(input: string, fn: (...args: A) => T) => {
      return (...args: A): T => {
        const r = raw.raft;
        const before = termView(raw);
        const queued = r.msgs.length;
        const queuedAfterPersist = r.msgsAfterPersist.length;
        let result: T;
        try {
          result = fn(...args);
        } catch (err) {
          // The loop drops a message the core refuses (a malformed one from a faulty peer); the simulation sends
          // none, so a throw is a broken invariant.
          this.hooks.violation(this, `the core threw on ${input}: ${describe(err)}`);
          throw err;
        }
        let sent: readonly Message[] = NONE;
        if (r.msgs.length > queued || r.msgsAfterPersist.length > queuedAfterPersist)
          sent = [...r.msgs.slice(queued), ...r.msgsAfterPersist.slice(queuedAfterPersist)];
        this.hooks.onInput(this, {
          member: this.id,
          stepped: input === 'step' ? (args[0] as Message) : undefined,
          input,
          before,
          after: termView(raw),
          sent,
          checkQuorum: this.settings.checkQuorum,
        });
        return result;
      };
    };
    raw.tick = observe('tick', raw.tick.bind(raw));
    raw.step = observe('step', raw.step.bind(raw));
    raw.proposeBatch = observe('propose', raw.proposeBatch.bind(raw));
    raw.proposeConfChange = observe('proposeConfChange', raw.proposeConfChange.bind(raw));
    raw.readIndex = observe('readIndex', raw.readIndex.bind(raw));
    raw.transferLeadership = observe('transferLeadership', raw.transferLeadership.bind(raw));
    raw.reportUnreachable = observe('reportUnreachable', raw.reportUnreachable.bind(raw));
    raw.reportSnapshot = observe('reportSnapshot', raw.reportSnapshot.bind(raw));
    const advance = raw.advance.bind(raw);
    raw.advance = observe('advance', (rd: Ready) => advance(this.rewritten.get(rd) ?? rd));
    const ready = raw.ready.bind(raw);
    raw.ready = (): Ready => {
      const rd = ready();
      this.hooks.onReady(this, rd);
      for (const e of rd.committedEntries) this.committedByIndex.set(e.index, e);
      if (rd.snapshot) this.readySnapshot = rd.snapshot;
      if (this.crashOnNextVote && castsVote(rd)) this.voteTrapReady = rd;
      const planted = this.plantHostBugs(rd);
      if (planted !== rd) {
        this.rewritten.set(planted, rd);
        if (rd === this.voteTrapReady) this.voteTrapReady = planted;
      }
      return planted;
    };
  }

  private plantHostBugs(rd: Ready): Ready {
    let out = rd;
    if (this.bugs.acksBeforeSync && rd.messagesAfterPersist.length > 0) {
      out = { ...out, messages: [...out.messages, ...out.messagesAfterPersist], messagesAfterPersist: [] };
    }
    if (this.bugs.applyUncommitted && rd.entries.length > 0 && !rd.snapshot) {
      // The entries being persisted, from the one after what is applied or committed, as if they had committed.
      const last = rd.committedEntries[rd.committedEntries.length - 1]?.index ?? this.appliedIndex;
      const from = Math.max(last, this.appliedIndex) + 1;
      const early = rd.entries.filter((e) => e.index >= from);
      if (early.length > 0 && early[0]!.index === from) {
        for (const e of early) this.committedByIndex.set(e.index, e);
        out = { ...out, committedEntries: [...out.committedEntries, ...early] };
      }
    }
    return out;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
