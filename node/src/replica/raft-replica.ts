// One member of one Raft group: the host loop around the pure core (etcd's raftNode). It owns the only path from
// inputs (ticks, peer messages, client proposals, reads, admin requests) to the core, and from the core's Ready to
// disk, network and state machine. The loop never idles on the disk: while a Ready is being persisted it keeps
// stepping peer messages, ticks and transfers into the core and sends at once what promises nothing durable, so
// acks commit entries (two followers are a quorum without the leader's own fsync), heartbeats and a handoff are
// never held up by a slow disk. Proposals and reads that arrive during an fsync are kept for the next Ready: one
// batch, one append message per follower, one fsync (group commit), one ReadIndex round. Committed entries are
// durable on a quorum already, so they are applied (and clients answered) before this member's own new entries are
// synced. Messages that promise durability (append and vote responses, vote requests) leave only after the fsync.
import type { Logger } from 'pino';
import { decodeConfChange } from '../raft/conf-change.js';
import type { MemoryStorage } from '../raft/memory-storage.js';
import type { RawNode } from '../raft/raw-node.js';
import {
  type ConfChange,
  type ConfState,
  type Entry,
  type Message,
  NO_NODE,
  type NodeId,
  type RaftStatus,
  type Ready,
  type Snapshot,
} from '../raft/types.js';
import {
  NotLeaderError,
  ProposalDroppedError,
  ProposalRefusedError,
  ReplicaOverloadedError,
  ReplicaStoppedError,
  ReplicaTimeoutError,
  TransferFailedError,
} from './errors.js';
import type { MemberDirectory } from './member-directory.js';
import { PendingProposals, type Waiter } from './pending-proposals.js';
import { ReadWaiters } from './read-waiters.js';
import { decodeSnapshotEnvelope, encodeSnapshotEnvelope } from './snapshot-envelope.js';
import { systemClock, type CancelTimer, type ReplicaClock } from './replica-clock.js';
import { NO_TRACE, type TraceStage, type WriteTrace } from '../observability/write-trace.js';

/** Makes a Ready durable: snapshot, entries and hard state in one write and (when `sync`) one fsync. */
export interface RaftPersistence {
  persist(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>, sync: boolean): Promise<void>;
  /** A snapshot this member took itself; afterwards the log up to `compactIndex` may be dropped. */
  saveSnapshot(snapshot: Snapshot, compactIndex: number): Promise<void>;
}

/** What the replica needs of a state machine; results of applied commands are handed to the proposer. */
export interface ReplicatedStateMachine<R> {
  readonly appliedIndex: number;
  applyEntry(index: number, data: Uint8Array): R | undefined;
  applyNoop(index: number): void;
  snapshot(): Uint8Array;
}

/** Counters and gauges the replica reports; all optional so tests can pass nothing. */
export interface ReplicaObserver {
  onFsync?(durationMs: number): void;
  onApply?(entries: number, durationMs: number): void;
  onLeaderChange?(leader: NodeId, term: number): void;
  onProposals?(count: number, result: 'ok' | 'refused' | 'notLeader'): void;
  onSnapshot?(bytes: number, durationMs: number): void;
  onReadIndex?(durationMs: number): void;
}

export interface ReplicaOptions<R> {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  readonly persistence: RaftPersistence;
  readonly machine: ReplicatedStateMachine<R>;
  readonly restoreMachine: (bytes: Uint8Array) => ReplicatedStateMachine<R>;
  readonly directory: MemberDirectory;
  /** Sends messages to peers; must never block or throw for peer trouble. */
  readonly send: (messages: readonly Message[]) => void;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Take a snapshot after this many entries were applied since the last one. */
  readonly snapshotEntries: number;
  /** Entries kept behind a snapshot so slightly lagging followers need no snapshot. */
  readonly snapshotRetainEntries: number;
  /**
   * Whether an applied entry's result calls for a snapshot at once, whatever snapshotEntries says: a data format
   * lowered before a downgrade, after which the snapshot on disk must be rewritten in the lower format.
   */
  readonly snapshotAfter?: (result: R) => boolean;
  readonly requestTimeoutMs: number;
  /** Bound on queued client requests (proposals + reads); past it callers get ReplicaOverloadedError. */
  readonly maxQueuedRequests: number;
  /** Bound on entries proposed in one batch. */
  readonly maxBatchEntries: number;
  readonly logger: Logger;
  readonly observer?: ReplicaObserver;
  /** Timestamps the stages of sampled entries (observability/write-trace.ts); NO_TRACE when absent. */
  readonly trace?: WriteTrace;
  /** Called when a committed conf change removed this member: it must stop serving as a member. */
  readonly onRemoved?: () => void;
  /** Timers and the monotonic clock; the process's own when absent (the simulation passes simulated ones). */
  readonly clock?: ReplicaClock;
  /** Random numbers in [0, 1) for what must differ between process starts (read contexts); Math.random when absent. */
  readonly random?: () => number;
  /** Called once when the loop fails (disk error, invariant): the process must stop; state may be unsafe. */
  readonly onFatal?: (error: Error) => void;
}

/** A Ready whose handling (persist, apply, snapshot) takes longer than this is logged with its breakdown. */
const SLOW_READY_MS = 100;

interface QueuedProposal<R> {
  readonly data: Uint8Array;
  readonly waiter: Waiter<R | undefined>;
  /** When it was queued, on the trace's clock (0 when tracing is off). */
  readonly queuedAtMs: number;
}

interface QueuedConfChange {
  readonly cc: ConfChange;
  readonly waiter: Waiter<ConfState>;
}

/** A promise with its settle functions and a deadline; settling twice is harmless. */
function deferred<T>(
  clock: ReplicaClock,
  timeoutMs: number,
  onTimeout: () => Error,
): { promise: Promise<T>; waiter: Waiter<T> } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const cancel = clock.setTimer(() => reject(onTimeout()), timeoutMs);
  return {
    promise,
    waiter: {
      resolve: (v) => {
        cancel();
        resolve(v);
      },
      reject: (e) => {
        cancel();
        reject(e);
      },
    },
  };
}

export class RaftReplica<R> {
  private machine: ReplicatedStateMachine<R>;
  private readonly trace: WriteTrace;
  private readonly clock: ReplicaClock;
  private readonly proposals = new PendingProposals<R | undefined>();
  private readonly confChanges = new PendingProposals<ConfState>();
  private readonly reads: ReadWaiters;
  private inboxMessages: Message[] = [];
  private inboxProposals: QueuedProposal<R>[] = [];
  private inboxConfChanges: QueuedConfChange[] = [];
  private inboxReads: Waiter<void>[] = [];
  private inboxTransfers: NodeId[] = [];
  private inboxTicks = 0;
  /** Ticks since the newest queued peer message: stepped after the messages, so a stall cannot expire a lease. */
  private ticksSinceMessage = 0;
  /** A snapshot being written in the background; at most one at a time. */
  private snapshotSave: Promise<void> | undefined;
  /** A background task (snapshot save) failed: the loop must stop as for any disk failure. */
  private backgroundFailure: Error | undefined;
  private snapshotRequests: Waiter<Snapshot>[] = [];
  /** Callers of awaitLeader(), woken when a leader that takes proposals is known. */
  private leaderWaiters: Waiter<NodeId>[] = [];
  private wake: (() => void) | undefined;
  private cancelTicker: CancelTimer | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private fatal: Error | undefined;
  private lastSnapshotIndex: number;
  private leader: NodeId = '';
  private removed = false;
  /** This member is about to stop: it must not take leadership it would drop a moment later. */
  private leaving = false;

  constructor(private readonly options: ReplicaOptions<R>) {
    // A snapshot every 0 entries would be taken at once, even at applied index 0, where there is nothing to save.
    if (!Number.isSafeInteger(options.snapshotEntries) || options.snapshotEntries < 1) {
      throw new RangeError(`snapshotEntries must be a positive integer, got ${options.snapshotEntries}`);
    }
    this.machine = options.machine;
    this.trace = options.trace ?? NO_TRACE;
    this.clock = options.clock ?? systemClock;
    this.reads = new ReadWaiters(options.node.id, options.random ?? Math.random);
    this.lastSnapshotIndex = options.storage.snapshot().metadata.index;
  }

  get id(): NodeId {
    return this.options.node.id;
  }

  get stateMachine(): ReplicatedStateMachine<R> {
    return this.machine;
  }

  get directory(): MemberDirectory {
    return this.options.directory;
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  get failure(): Error | undefined {
    return this.fatal;
  }

  start(): void {
    if (this.loop) return;
    this.cancelTicker = this.clock.setRepeating(() => {
      this.inboxTicks++;
      this.ticksSinceMessage++;
      this.poke();
    }, this.options.tickMs);
    this.loop = this.run();
  }

  /** Stops the loop; queued and pending requests fail with ReplicaStoppedError. Bounded by one fsync. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTicker?.();
    this.poke();
    await this.loop;
    await this.snapshotSave;
    this.failEverything(new ReplicaStoppedError());
  }

  status(): RaftStatus {
    return this.options.node.status();
  }

  // ---- inputs ----

  /** A message from a peer (transport). Dropped when stopping; bounded by the transport's own limits. */
  deliver(message: Message): void {
    if (this.stopped) return;
    if (message.type === 'timeoutNow') {
      if (this.leaving) {
        // Campaigning now would hand the group a leader that is gone a moment later, and keep the old leader waiting
        // for a transfer that cannot last. Dropped, the transfer is abandoned and the leader tries someone else.
        this.options.logger.info(
          { from: message.from },
          'stopping: declined the leadership handed to this member',
        );
        return;
      }
      this.options.logger.info({ from: message.from }, 'the leader hands leadership to this member');
    }
    if (this.trace.enabled && message.type === 'app') {
      for (const e of message.entries) this.trace.mark('received', e.term, e.index);
    }
    this.inboxMessages.push(message);
    this.ticksSinceMessage = 0;
    this.poke();
  }

  reportUnreachable(id: NodeId): void {
    if (this.stopped) return;
    this.options.node.reportUnreachable(id);
    this.poke();
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    if (this.stopped) return;
    this.options.node.reportSnapshot(id, ok);
    this.poke();
  }

  /** Proposes a command; resolves with the state machine's result once applied here. Leader only. */
  propose(data: Uint8Array): Promise<R | undefined> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    const leader = this.status().leader;
    if (leader !== this.id) return Promise.reject(new NotLeaderError(leader));
    const { promise, waiter } = deferred<R | undefined>(
      this.clock,
      this.options.requestTimeoutMs,
      () =>
        new ReplicaTimeoutError(
          `no result within ${this.options.requestTimeoutMs} ms; the write may still apply`,
        ),
    );
    this.inboxProposals.push({ data, waiter, queuedAtMs: this.trace.now() });
    this.poke();
    return promise;
  }

  /** Resolves once this member's state machine reflects every write acknowledged before the call. */
  linearizableBarrier(): Promise<void> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    if (this.status().leader === '') return Promise.reject(new NotLeaderError(''));
    const started = this.clock.now();
    const { promise, waiter } = deferred<void>(
      this.clock,
      this.options.requestTimeoutMs,
      () => new ReplicaTimeoutError(`read index not confirmed within ${this.options.requestTimeoutMs} ms`),
    );
    this.inboxReads.push({
      resolve: () => {
        this.options.observer?.onReadIndex?.(this.clock.now() - started);
        waiter.resolve();
      },
      reject: (e) => waiter.reject(e),
    });
    this.poke();
    return promise;
  }

  proposeConfChange(cc: ConfChange): Promise<ConfState> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    const leader = this.status().leader;
    if (leader !== this.id) return Promise.reject(new NotLeaderError(leader));
    const { promise, waiter } = deferred<ConfState>(
      this.clock,
      this.options.requestTimeoutMs,
      () => new ReplicaTimeoutError(`membership change ${cc.type} ${cc.nodeId} not applied in time`),
    );
    this.inboxConfChanges.push({ cc, waiter });
    this.poke();
    return promise;
  }

  /** Takes a snapshot now (admin request); resolves with it once it is durable. */
  requestSnapshot(): Promise<Snapshot> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    const { promise, waiter } = deferred<Snapshot>(
      this.clock,
      this.options.requestTimeoutMs,
      () => new ReplicaTimeoutError('the snapshot did not complete in time'),
    );
    this.snapshotRequests.push(waiter);
    this.poke();
    return promise;
  }

  /**
   * Hands leadership to `to` (or to the most caught-up voter) and resolves once this member is no longer leader.
   * Rejects on timeout (the transfer is abandoned after an election timeout).
   */
  async transferLeadership(to?: NodeId, timeoutMs?: number): Promise<NodeId> {
    const refusal = this.refusal();
    if (refusal) throw refusal;
    const status = this.status();
    if (status.leader !== this.id) throw new NotLeaderError(status.leader);
    const target = to ?? bestTransferTarget(status);
    if (!target) throw new Error('no other voter to transfer leadership to');
    if (!status.config.voters.includes(target)) throw new Error(`${target} is not a voter`);
    this.inboxTransfers.push(target);
    this.poke();
    // The core abandons a transfer after an election timeout; a loaded process may notice later than that.
    const deadline =
      this.clock.now() +
      (timeoutMs ??
        Math.max(2 * this.options.electionTicks * this.options.tickMs, this.options.requestTimeoutMs));
    let started = false;
    while (this.clock.now() < deadline) {
      await new Promise((r) => this.clock.setTimer(() => r(undefined), this.options.tickMs / 2));
      const now = this.status();
      // Stepping down comes first and the new leader's first message later: '' means "not yet known", not done.
      if (now.leader !== this.id && now.leader !== '') return now.leader;
      if (now.leader !== this.id) continue;
      // Still (or again) the leader. Waiting longer cannot help once the core gave the transfer up (the target did
      // not take over within an election timeout: it is down, or stopping) or this member won a later election.
      if (now.leadTransferee === target) started = true;
      if ((started && now.leadTransferee === NO_NODE) || now.term > status.term) {
        throw new TransferFailedError(
          target,
          now.term > status.term ? 'this member was elected again' : 'abandoned',
        );
      }
    }
    throw new ReplicaTimeoutError(`leadership transfer to ${target} did not finish in time`);
  }

  /**
   * Before stopping: stop accepting leadership, then, if leading, hand it to the most caught-up voter, or the next
   * one if that one does not take over (it may be stopping too). Resolves with the new leader, or undefined when
   * this member does not lead or no voter took over (the others elect one after it is gone). Bounded by
   * `budgetMs` in all, so the hand-off leaves time for draining within the grace period.
   */
  async handOverBeforeStopping(budgetMs: number, maxAttempts = 2): Promise<NodeId | undefined> {
    this.leaving = true;
    const deadline = this.clock.now() + budgetMs;
    const tried = new Set<NodeId>();
    for (let attempt = 0; attempt < maxAttempts && this.clock.now() < deadline; attempt++) {
      const status = this.status();
      if (status.leader !== this.id || this.refusal()) return undefined;
      const target = transferTargets(status).find((id) => !tried.has(id));
      if (target === undefined) return undefined;
      tried.add(target);
      try {
        return await this.transferLeadership(target, deadline - this.clock.now());
      } catch (err) {
        if (!(err instanceof TransferFailedError || err instanceof ReplicaTimeoutError)) throw err;
        this.options.logger.info(
          { to: target, err: err.message },
          'leadership hand-off failed; trying the next voter',
        );
      }
    }
    return undefined;
  }

  /**
   * The leader that takes proposals now: known, and not handing leadership over. During an election or a transfer
   * this waits (at most `timeoutMs`) instead of failing, so requests ride through a handoff. Rejects with
   * NotLeaderError when none is known in time.
   */
  awaitLeader(timeoutMs: number): Promise<NodeId> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    const now = this.settledLeader();
    if (now !== undefined) return Promise.resolve(now);
    const { promise, waiter } = deferred<NodeId>(
      this.clock,
      timeoutMs,
      () => new NotLeaderError('', `no leader took over within ${timeoutMs} ms`),
    );
    if (this.leaderWaiters.length >= this.options.maxQueuedRequests) {
      waiter.reject(
        new ReplicaOverloadedError(`more than ${this.options.maxQueuedRequests} requests wait for a leader`),
      );
      return promise;
    }
    this.leaderWaiters.push(waiter);
    return promise;
  }

  private settledLeader(): NodeId | undefined {
    const raft = this.options.node.raft;
    if (raft.lead === '') return undefined;
    if (raft.lead === this.id && (raft.leadTransferee !== '' || this.inboxTransfers.length > 0))
      return undefined;
    return raft.lead;
  }

  private wakeLeaderWaiters(): void {
    if (this.leaderWaiters.length === 0) return;
    const leader = this.settledLeader();
    if (leader === undefined) return;
    for (const w of this.leaderWaiters.splice(0)) w.resolve(leader);
  }

  /** Why a new request cannot be taken now, if it cannot. */
  private refusal(): Error | undefined {
    if (this.fatal) return new ReplicaStoppedError(`the replica failed: ${this.fatal.message}`);
    if (this.stopped) return new ReplicaStoppedError();
    if (this.inboxProposals.length + this.inboxReads.length >= this.options.maxQueuedRequests) {
      return new ReplicaOverloadedError(`more than ${this.options.maxQueuedRequests} requests queued`);
    }
    return undefined;
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  // ---- the loop ----

  private hasInput(): boolean {
    return this.hasSteppableInput() || this.snapshotRequests.length > 0;
  }

  /** Inputs feedInputs() consumes. */
  private hasSteppableInput(): boolean {
    return (
      this.hasPeerInput() ||
      this.inboxProposals.length > 0 ||
      this.inboxConfChanges.length > 0 ||
      this.inboxReads.length > 0
    );
  }

  /** Inputs stepped even while a Ready is being persisted (feedPeerInputs). */
  private hasPeerInput(): boolean {
    return this.inboxTicks > 0 || this.inboxMessages.length > 0 || this.inboxTransfers.length > 0;
  }

  private async run(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.backgroundFailure) throw this.backgroundFailure;
        if (!this.hasInput() && !this.options.node.hasReady()) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        this.feedInputs();
        if (this.options.node.hasReady()) await this.handleReady();
        if (this.snapshotRequests.length > 0) await this.snapshotOnRequest();
      }
    } catch (err) {
      this.fatal = err instanceof Error ? err : new Error(String(err));
      this.options.logger.fatal({ err: this.fatal }, 'replica loop failed; the member must stop');
      this.stopped = true;
      this.cancelTicker?.();
      this.failEverything(new ReplicaStoppedError(`the replica failed: ${this.fatal.message}`));
      this.options.onFatal?.(this.fatal);
    }
  }

  private feedInputs(): void {
    this.feedPeerInputs();
    this.feedClientInputs();
  }

  /** Ticks, peer messages and transfers: what keeps the group healthy and moving, never batched. */
  private feedPeerInputs(): void {
    const node = this.options.node;
    // Catching up after a stall must not fire many elections at once: time that passed counts, but bounded. Ticks
    // are interleaved with the messages by arrival: a heartbeat or ack that arrived during the stall is stepped
    // before the ticks that came after it, so a stalled loop does not step down or campaign against a live peer.
    const ticks = Math.min(this.inboxTicks, this.options.electionTicks);
    const ticksAfter = Math.min(this.ticksSinceMessage, ticks);
    this.inboxTicks = 0;
    this.ticksSinceMessage = 0;
    for (let i = 0; i < ticks - ticksAfter; i++) node.tick();

    const messages = this.inboxMessages;
    this.inboxMessages = [];
    for (const m of messages) {
      try {
        node.step(m);
      } catch (err) {
        // A malformed or misaddressed message is the sender's problem, not a reason to stop.
        this.options.logger.warn({ err, type: m.type, from: m.from }, 'dropped a message the core refused');
      }
    }
    for (let i = 0; i < ticksAfter; i++) node.tick();

    for (const to of this.inboxTransfers.splice(0)) {
      this.options.logger.info(
        { to, match: node.status().progress.get(to)?.match },
        'transferring leadership',
      );
      node.transferLeadership(to);
    }
    this.wakeLeaderWaiters();
  }

  /** Proposals, membership changes and reads: batched, so fed once per Ready. */
  private feedClientInputs(): void {
    const node = this.options.node;

    if (this.inboxProposals.length > 0) {
      const batch = this.inboxProposals.splice(0, this.options.maxBatchEntries);
      const result = node.proposeBatch(batch.map((p) => p.data));
      if (result.ok) {
        const first = result.index - batch.length + 1;
        batch.forEach((p, i) =>
          this.proposals.add(first + i, result.term, p.waiter, (w, term) =>
            w.reject(new ProposalDroppedError(first + i, term)),
          ),
        );
        if (this.trace.enabled) {
          batch.forEach((p, i) => {
            this.trace.mark('queued', result.term, first + i, p.queuedAtMs);
            this.trace.mark('proposed', result.term, first + i);
          });
        }
        this.options.observer?.onProposals?.(batch.length, 'ok');
      } else {
        const error =
          result.reason === 'notLeader'
            ? new NotLeaderError(node.status().leader)
            : new ProposalRefusedError(result.reason);
        for (const p of batch) p.waiter.reject(error);
        this.options.observer?.onProposals?.(
          batch.length,
          result.reason === 'notLeader' ? 'notLeader' : 'refused',
        );
      }
    }

    // One membership change at a time; the next waits until the core accepts it.
    const change = this.inboxConfChanges.shift();
    if (change) {
      const result = node.proposeConfChange(change.cc);
      if (result.ok) {
        this.confChanges.add(result.index, result.term, change.waiter, (w, term) =>
          w.reject(new ProposalDroppedError(result.index, term)),
        );
      } else if (result.reason === 'notLeader')
        change.waiter.reject(new NotLeaderError(node.status().leader));
      else change.waiter.reject(new ProposalRefusedError(result.reason));
    }

    if (this.inboxReads.length > 0) {
      const waiters = this.inboxReads.splice(0);
      if (node.status().leader === '') {
        for (const w of waiters) w.reject(new NotLeaderError(''));
      } else {
        node.readIndex(this.reads.register(waiters));
      }
    }
  }

  private async handleReady(): Promise<void> {
    const { node, persistence, logger, observer } = this.options;
    const started = this.clock.now();
    const rd = node.ready();
    if (rd.softState && rd.softState.leader !== this.leader) {
      const previous = this.leader;
      this.leader = rd.softState.leader;
      // Read contexts sent to the old leader will never be answered: fail them so clients retry at once.
      this.reads.rejectAwaitingIndex(new NotLeaderError(this.leader));
      observer?.onLeaderChange?.(this.leader, node.status().term);
      logger.info({ previous, leader: this.leader, term: node.status().term }, 'leader changed');
    }
    this.wakeLeaderWaiters();
    this.sendTraced(rd.messages);
    for (const m of rd.messages)
      if (m.type === 'timeoutNow') logger.info({ to: m.to }, 'transferee caught up; told it to campaign now');

    // Committed entries are on a quorum's disks: apply them now, while our own new entries are synced. A snapshot
    // from the leader replaces the state machine and is installed only once it is durable here.
    let removedSelf = false;
    let applyMs = 0;
    const apply = (): void => {
      const applyStarted = this.clock.now();
      if (rd.snapshot) this.installSnapshot(rd.snapshot);
      removedSelf = this.applyCommitted(rd);
      if (rd.committedEntries.length > 0) {
        observer?.onApply?.(rd.committedEntries.length, this.clock.now() - applyStarted);
      }
      const applied = this.machine.appliedIndex;
      this.reads.onApplied(applied);
      for (const rs of rd.readStates) this.reads.onReadState(rs.context, rs.index, applied);
      applyMs += this.clock.now() - applyStarted;
    };
    if (!rd.snapshot) apply();

    const persistStarted = this.clock.now();
    if (rd.snapshot || rd.entries.length > 0 || rd.hardState) {
      this.markEntries('persistStart', rd.entries);
      await this.steppingUntil(persistence.persist(rd, rd.mustSync));
      if (rd.mustSync) observer?.onFsync?.(this.clock.now() - persistStarted);
      this.markEntries('persistEnd', rd.entries);
    }
    const persistMs = this.clock.now() - persistStarted;
    this.sendTraced(rd.messagesAfterPersist);
    if (rd.messagesAfterPersist.some((m) => m.type === 'appResp')) this.markEntries('acked', rd.entries);
    if (rd.snapshot) apply();
    node.advance(rd);
    // Conf changes take effect in advance(); resolve their waiters only now.
    this.settleConfChanges(rd);
    if (removedSelf && !this.removed) {
      this.removed = true;
      logger.warn('this member was removed from the configuration');
      this.options.onRemoved?.();
    }
    const snapshotStarted = this.clock.now();
    this.maybeSnapshot();
    const finished = this.clock.now();
    if (finished - started >= SLOW_READY_MS) {
      logger.warn(
        {
          totalMs: Math.round(finished - started),
          persistMs: Math.round(persistMs),
          applyMs: Math.round(applyMs),
          snapshotMs: Math.round(finished - snapshotStarted),
          entries: rd.entries.length,
          committed: rd.committedEntries.length,
        },
        'slow Ready: it took this long to persist and apply',
      );
    }
  }

  /**
   * Waits for `work` (a Ready's persistence) while stepping peer messages, ticks and transfers into the core, sending
   * at once the messages that promise nothing durable. The core allows steps between ready() and advance(); what must wait for
   * persistence stays queued in it for the next Ready.
   */
  private async steppingUntil(work: Promise<void>): Promise<void> {
    let settled = false;
    let failed = false;
    let failure: unknown;
    work.then(
      () => {
        settled = true;
        this.poke();
      },
      (err: unknown) => {
        failed = true;
        failure = err;
        settled = true;
        this.poke();
      },
    );
    while (!settled) {
      if (this.hasPeerInput()) {
        this.feedPeerInputs();
        this.sendTraced(this.options.node.takeMessages());
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (failed) throw failure instanceof Error ? failure : new Error(String(failure));
  }

  /** Sends, marking each sampled entry an append carries (tracing only). */
  private sendTraced(messages: readonly Message[]): void {
    if (this.trace.enabled) {
      for (const m of messages) if (m.type === 'app') this.markEntries('sent', m.entries);
    }
    this.options.send(messages);
  }

  private markEntries(stage: TraceStage, entries: readonly Entry[]): void {
    if (!this.trace.enabled) return;
    for (const e of entries) this.trace.mark(stage, e.term, e.index);
  }

  private installSnapshot(snapshot: Snapshot): void {
    const envelope = decodeSnapshotEnvelope(snapshot.data);
    this.machine = this.options.restoreMachine(envelope.machine);
    for (const m of envelope.members) this.options.directory.set(m);
    this.lastSnapshotIndex = snapshot.metadata.index;
    // Our proposals up to the snapshot were either applied inside it or overwritten; we cannot tell which.
    const unknown = new ReplicaTimeoutError(
      'a snapshot replaced the log; the outcome of this write is unknown',
    );
    this.proposals.dropUpTo(snapshot.metadata.index, (w) => w.reject(unknown));
    this.options.logger.info({ index: snapshot.metadata.index }, 'installed a snapshot from the leader');
  }

  /** Applies committed entries in order; returns whether one of them removed this member. */
  private applyCommitted(rd: Ready): boolean {
    let removedSelf = false;
    this.markEntries('committed', rd.committedEntries);
    for (const entry of rd.committedEntries) {
      if (entry.index <= this.machine.appliedIndex) continue; // covered by an installed snapshot
      if (entry.type === 'confChange') {
        this.machine.applyNoop(entry.index);
        const cc = decodeConfChange(entry.data);
        this.options.directory.apply(cc);
        if (cc.type === 'remove' && cc.nodeId === this.id) removedSelf = true;
        continue;
      }
      const result = this.machine.applyEntry(entry.index, entry.data);
      if (result !== undefined && this.options.snapshotAfter?.(result) === true) {
        this.snapshotSoon(entry.index);
      }
      if (this.trace.enabled) this.trace.mark('applied', entry.term, entry.index);
      const waiter = this.proposals.take(entry, (w, term) =>
        w.reject(new ProposalDroppedError(entry.index, term)),
      );
      if (waiter !== undefined && this.trace.enabled) this.trace.mark('replied', entry.term, entry.index);
      waiter?.resolve(result);
    }
    return removedSelf;
  }

  /**
   * Queues a snapshot as the Snapshot admin request does: the loop takes it right after this Ready, at the applied
   * index then (past `index`), once a snapshot already being saved is durable. Replayed after a crash before it is
   * durable, the entry asks again.
   * The log is compacted as for any snapshot (snapshotRetainEntries stay behind it, in memory and in the WAL), and
   * that is enough for a build that cannot decode the entry (0.1.0 and this one restart alike): the WAL replay
   * reads entries as frames without decoding their commands, recovery keeps only the entries after the snapshot's
   * index (storage/recovery.ts, reconcile), the core restarts with applied = the snapshot's index and the apply loop
   * skips anything at or below it. Restarted so, a member never sends the entry as leader either: its log starts
   * after it.
   */
  private snapshotSoon(index: number): void {
    const { logger } = this.options;
    this.snapshotRequests.push({
      resolve: (snapshot) =>
        logger.info(
          { entry: index, index: snapshot.metadata.index },
          'took the snapshot an applied entry asked for',
        ),
      reject: (err) =>
        logger.warn({ err, entry: index }, 'the snapshot an applied entry asked for was not taken'),
    });
  }

  private settleConfChanges(rd: Ready): void {
    for (const entry of rd.committedEntries) {
      if (entry.type !== 'confChange') continue;
      const waiter = this.confChanges.take(entry, (w, term) =>
        w.reject(new ProposalDroppedError(entry.index, term)),
      );
      waiter?.resolve(this.options.node.confState());
    }
  }

  private async snapshotOnRequest(): Promise<void> {
    const waiters = this.snapshotRequests.splice(0);
    try {
      await this.snapshotSave;
      if (this.backgroundFailure) throw this.backgroundFailure;
      if (this.machine.appliedIndex > this.lastSnapshotIndex) await this.startSnapshot();
      for (const w of waiters) w.resolve(this.options.storage.snapshot());
    } catch (err) {
      for (const w of waiters) w.reject(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  /** Starts a snapshot every snapshotEntries applied entries; it is written in the background, one at a time. */
  private maybeSnapshot(): void {
    if (this.snapshotSave) return;
    if (this.machine.appliedIndex - this.lastSnapshotIndex >= this.options.snapshotEntries) {
      this.startSnapshot().catch(() => {
        // Recorded in backgroundFailure by startSnapshot; the loop stops on it.
      });
    }
  }

  /**
   * Encodes the state machine now (a consistent cut at the applied index) and compacts the in-memory log; the file
   * is written and synced in the background while the loop goes on (the storage orders it with the WAL appends, and
   * the WAL is compacted only once the snapshot is durable). Resolves once it is durable.
   */
  private startSnapshot(): Promise<void> {
    const started = this.clock.now();
    const data = encodeSnapshotEnvelope({
      members: this.options.directory.all(),
      machine: this.machine.snapshot(),
    });
    this.options.node.compact(data, this.options.snapshotRetainEntries);
    const snapshot = this.options.storage.snapshot();
    this.lastSnapshotIndex = snapshot.metadata.index;
    const save = this.options.persistence
      .saveSnapshot(snapshot, this.options.storage.firstIndex() - 1)
      .then(
        () => {
          this.options.observer?.onSnapshot?.(data.byteLength, this.clock.now() - started);
          this.options.logger.info(
            {
              index: snapshot.metadata.index,
              bytes: data.byteLength,
              ms: Math.round(this.clock.now() - started),
            },
            'took a snapshot',
          );
        },
        (err: unknown) => {
          this.backgroundFailure ??= err instanceof Error ? err : new Error(String(err));
          this.poke();
          throw this.backgroundFailure;
        },
      )
      .finally(() => {
        this.snapshotSave = undefined;
      });
    this.snapshotSave = save.catch(() => undefined);
    return save;
  }

  private failEverything(error: Error): void {
    for (const p of this.inboxProposals.splice(0)) p.waiter.reject(error);
    for (const c of this.inboxConfChanges.splice(0)) c.waiter.reject(error);
    for (const r of this.inboxReads.splice(0)) r.reject(error);
    for (const w of this.snapshotRequests.splice(0)) w.reject(error);
    for (const w of this.leaderWaiters.splice(0)) w.reject(error);
    this.proposals.rejectAll(error);
    this.confChanges.rejectAll(error);
    this.reads.rejectAll(error);
  }
}

/** The voter (other than the leader) with the highest match index: the cheapest to hand leadership to. */
export function bestTransferTarget(status: RaftStatus): NodeId | undefined {
  return transferTargets(status)[0];
}

/** The other voters, most caught-up first (ties in configuration order): the order to offer leadership in. */
export function transferTargets(status: RaftStatus): NodeId[] {
  const match = (id: NodeId): number => status.progress.get(id)?.match ?? -1;
  return status.config.voters
    .filter((id) => id !== status.id)
    .map((id, i) => ({ id, i }))
    .sort((a, b) => match(b.id) - match(a.id) || a.i - b.i)
    .map((x) => x.id);
}
