// The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", and Ongaro's
// thesis), structured like etcd-io/raft raft.go: step() handles terms once, then dispatches to one function per role.
// No I/O and no clocks: time is tick(), randomness is injected, output is queued messages the host sends.
import { applyConfChange, confChangeProblem, decodeConfChange, encodeConfChange } from './conf-change.js';
import { resolveConfig, type RaftConfig, type ResolvedRaftConfig } from './config.js';
import { CompactedError, invariant } from './errors.js';
import { entrySize } from './memory-storage.js';
import { newMessage } from './message.js';
import { RaftLog } from './raft-log.js';
import { ReadOnlyQueue } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import { voteResult } from './quorum.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NodeId,
  ProposalResult,
  RaftStatus,
  ReadState,
  Role,
  Snapshot,
  SoftState,
} from './types.js';
import { NO_NODE } from './types.js';

/** Context of vote requests that come from a leadership transfer: they may bypass the leader lease. */
const TRANSFER_CONTEXT = new TextEncoder().encode('transfer');
/** Bound on ReadIndex requests waiting on the leader; past it requests are dropped and the host retries. */
const MAX_PENDING_READS = 4096;
/** Check-quorum rounds (election timeouts) a snapshot may go unanswered before the leader gives up on it. */
const SNAPSHOT_ROUNDS_MAX = 5;

type MessageInit = Partial<Message> & Pick<Message, 'type' | 'to'>;

/** A message with every field at its zero value except those given. */

function isTransferContext(context: Uint8Array | undefined): boolean {
  return context !== undefined && Buffer.from(context).equals(TRANSFER_CONTEXT);
}

/** Messages that promise something durable (a vote, appended entries) and so may leave only after the fsync. */
function needsPersistBeforeSend(type: MessageType): boolean {
  return type === 'appResp' || type === 'voteResp' || type === 'vote';
}

export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;

  term = 0;
  vote: NodeId = NO_NODE;
  role: Role = 'follower';
  lead: NodeId = NO_NODE;
  leadTransferee: NodeId = NO_NODE;
  /** Index of the latest conf change appended by this leader; another may be proposed once it is applied. */
  pendingConfIndex = 0;
  /** Bytes of entries appended by this leader and not yet handed out for applying (backpressure). */
  uncommittedSize = 0;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly readOnly = new ReadOnlyQueue(MAX_PENDING_READS);
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];

  msgs: Message[] = [];
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage);
    this.tracker = new ProgressTracker(this.cfg.maxInflightMessages, this.cfg.maxInflightBytes);
    const { hardState, confState } = this.cfg.storage.initialState();
    this.tracker.reset(confState, this.log.lastIndex() + 1);
    if (hardState.term !== 0 || hardState.commit !== 0) this.loadHardState(hardState);
    if (this.cfg.applied > 0) {
      // Configuration changes between the snapshot and what the host already applied must be replayed.
      const from = this.log.applied + 1;
      for (const e of this.log.slice(from, this.cfg.applied + 1, Number.MAX_SAFE_INTEGER)) {
        if (e.type === 'confChange') this.applyConfChange(decodeConfChange(e.data));
      }
      this.log.appliedTo(this.cfg.applied);
    }
    this.becomeFollower(this.term, NO_NODE);
  }

  private loadHardState(hs: HardState): void {
    invariant(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      () => `hard state commit ${hs.commit} outside [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  // ---- state snapshots for the host ----

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    return this.tracker.confState();
  }

  status(): RaftStatus {
    const progress = new Map(
      this.role === 'leader' ? [...this.tracker.progress].map(([id, pr]) => [id, pr.status()] as const) : [],
    );
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lastIndex: this.log.lastIndex(),
      lastLogTerm: this.log.lastTerm(),
      leader: this.lead,
      role: this.role,
      leadTransferee: this.leadTransferee,
      config: this.confState(),
      progress,
    };
  }

  /** Voters may campaign; learners and members that were removed (or not yet added) may not. */
  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  // ---- sending ----

  private send(init: MessageInit): void {
    const m = newMessage(init.type, this.id, init.to, init);
    invariant(m.to !== this.id, () => `${this.id} sending ${m.type} to itself`);
    // Vote traffic carries its own term (a pre-vote asks about a future term); everything else our current one.
    const withTerm =
      m.type === 'vote' || m.type === 'preVote' || m.type === 'voteResp' || m.type === 'preVoteResp'
        ? m
        : { ...m, term: this.term };
    if (needsPersistBeforeSend(withTerm.type)) this.msgsAfterPersist.push(withTerm);
    else this.msgs.push(withTerm);
  }

  /** Sends an append (or a snapshot) to `to` if its flow control allows. Returns whether a message was sent. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    if (pr.next < this.log.firstIndex()) return this.maybeSendSnapshot(to);
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      entries = this.log.slice(pr.next, this.log.lastIndex() + 1, this.cfg.maxEntriesBytesPerMessage);
    } catch (err) {
      if (err instanceof CompactedError) return this.maybeSendSnapshot(to);
      throw err;
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of entries) bytes += entrySize(e);
    this.send({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed });
    pr.sentEntries(entries.length, prevIndex + entries.length, bytes);
    pr.sentCommit = Math.max(pr.sentCommit, this.log.committed);
    return true;
  }

  private maybeSendSnapshot(to: NodeId): boolean {
    const pr = this.tracker.progress.get(to)!;
    // A member that has not answered recently is probably down; do not pay for a snapshot until it is back.
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    invariant(snapshot.metadata.index > 0, () => 'need a snapshot to send but none is held');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send({ type: 'snap', to, snapshot });
    return true;
  }

  private sendHeartbeat(to: NodeId, context: Uint8Array | undefined): void {
    const pr = this.tracker.progress.get(to)!;
    // Never tell a follower to commit beyond what it is known to have: it may not have those entries yet.
    const commit = Math.min(pr.match, this.log.committed);
    this.send(context ? { type: 'heartbeat', to, commit, context } : { type: 'heartbeat', to, commit });
  }

  private forEachPeer(fn: (id: NodeId) => void): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) fn(id);
  }

  bcastAppend(): void {
    this.forEachPeer((id) => this.maybeSendAppend(id, true));
  }

  private bcastHeartbeat(context: Uint8Array | undefined): void {
    this.forEachPeer((id) => this.sendHeartbeat(id, context));
  }

  // ---- role transitions ----

  private reset(term: number): void {
    if (this.term !== term) {
      invariant(term > this.term, () => `term moving backwards from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout =
      this.cfg.electionTicks + Math.floor(this.cfg.random() * this.cfg.electionTicks);
    this.leadTransferee = NO_NODE;
    this.tracker.resetVotes();
    const next = this.log.lastIndex() + 1;
    for (const [id, pr] of this.tracker.progress) {
      pr.restart(id === this.id ? this.log.lastPersistedIndex() : 0, next);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly.clear();
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', () => 'leader cannot become pre-candidate');
    // Pre-vote changes neither term nor vote: a member that cannot win disturbs nobody (thesis §9.6).
    this.tracker.resetVotes();
    this.role = 'preCandidate';
    this.lead = NO_NODE;
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', () => 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', () => `${this.role} cannot become leader`);
    this.reset(this.term);
    this.role = 'leader';
    this.lead = this.id;
    const self = this.tracker.progress.get(this.id);
    if (self) self.becomeReplicate();
    for (const [, pr] of this.tracker.progress) pr.recentActive = true;
    // Conservatively treat the whole log as possibly holding an unapplied conf change.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op entry of the new term: committing it commits everything before it (Figure 8 rule, §5.4.2).
    this.appendEntries([{ type: 'normal', data: new Uint8Array() }]);
  }

  // ---- elections ----

  private hasUnappliedConfChanges(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    for (const e of this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER)) {
      if (e.type === 'confChange') return true;
    }
    return false;
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    // Campaigning with a committed but unapplied conf change could use a stale configuration.
    if (this.hasUnappliedConfChanges()) return;
    if (transfer) this.campaign('transfer');
    else this.campaign(this.cfg.preVote ? 'preElection' : 'election');
  }

  private campaign(kind: 'preElection' | 'election' | 'transfer'): void {
    let voteType: 'vote' | 'preVote';
    let term: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteType = 'preVote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = 'vote';
      term = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes() === 'won') {
      // A single-voter configuration wins at once.
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.send({
        type: voteType,
        to: id,
        term,
        index: lastIndex,
        logTerm: lastTerm,
        ...(kind === 'transfer' ? { context: TRANSFER_CONTEXT } : {}),
      });
    }
  }

  private inLease(): boolean {
    return this.cfg.checkQuorum && this.lead !== NO_NODE && this.electionElapsed < this.cfg.electionTicks;
  }

  // ---- ticks ----

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(this.local('hup'));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) this.step(this.local('checkQuorum'));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.role === 'leader' && this.leadTransferee !== NO_NODE) this.leadTransferee = NO_NODE;
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.step(this.local('beat'));
    }
  }

  /** A message the core steps to itself (term 0 marks it local). */
  private local(type: MessageType, init: Partial<Message> = {}): Message {
    return newMessage(type, this.id, this.id, init);
  }

  // ---- proposals ----

  /** Appends entries as leader; returns the index of the last one. */
  private appendEntries(entries: readonly { type: EntryType; data: Uint8Array }[]): number {
    let index = this.log.lastIndex();
    const stamped: Entry[] = entries.map((e) => ({
      term: this.term,
      index: ++index,
      type: e.type,
      data: e.data,
    }));
    this.log.append(stamped);
    for (const e of stamped) this.uncommittedSize += e.data.byteLength;
    return index;
  }

  private proposalRefusal(bytes: number): ProposalResult | undefined {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader' };
    if (this.leadTransferee !== NO_NODE) return { ok: false, reason: 'transferringLeadership' };
    const max = this.cfg.maxUncommittedEntriesBytes;
    if (max > 0 && this.uncommittedSize > 0 && this.uncommittedSize + bytes > max) {
      return { ok: false, reason: 'tooManyUncommittedBytes' };
    }
    return undefined;
  }

  /** Proposes several commands as one batch: one append message per follower carries them all. */
  propose(batch: readonly Uint8Array[]): ProposalResult {
    invariant(batch.length > 0, () => 'propose needs at least one entry');
    let bytes = 0;
    for (const data of batch) bytes += data.byteLength;
    const refusal = this.proposalRefusal(bytes);
    if (refusal) return refusal;
    const index = this.appendEntries(batch.map((data) => ({ type: 'normal', data })));
    this.bcastAppend();
    return { ok: true, index, term: this.term };
  }

  proposeConfChange(cc: ConfChange): ProposalResult {
    const data = encodeConfChange(cc);
    const refusal = this.proposalRefusal(data.byteLength);
    if (refusal) return refusal;
    // Single-server changes are safe only one at a time (thesis §4.1).
    if (this.pendingConfIndex > this.log.applied) return { ok: false, reason: 'confChangePending' };
    if (confChangeProblem(this.confState(), cc) !== undefined)
      return { ok: false, reason: 'invalidConfChange' };
    const index = this.appendEntries([{ type: 'confChange', data }]);
    this.pendingConfIndex = index;
    this.bcastAppend();
    return { ok: true, index, term: this.term };
  }

  // ---- the host's acknowledgements ----

  /** Entries up to (index, term) are durable here: as leader, that is our own acknowledgement. */
  onPersisted(index: number, term: number): void {
    if (this.role !== 'leader' || !this.log.matchTerm(index, term)) return;
    const self = this.tracker.progress.get(this.id);
    if (self && self.maybeUpdate(index) && this.maybeCommit()) this.afterCommit();
  }

  /** Committed entries were handed to the host; shrink the backpressure window. */
  reduceUncommittedSize(entries: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    let bytes = 0;
    for (const e of entries) bytes += e.data.byteLength;
    this.uncommittedSize = Math.max(0, this.uncommittedSize - bytes);
  }

  /** A committed conf-change entry was applied by the host: switch to the new configuration. */
  applyConfChange(cc: ConfChange): ConfState {
    const next = applyConfChange(this.confState(), cc);
    const nextIndex = this.log.lastIndex() + 1;
    for (const id of [...this.tracker.progress.keys()]) {
      if (!next.voters.includes(id) && !next.learners.includes(id)) this.tracker.progress.delete(id);
    }
    for (const id of [...next.voters, ...next.learners]) {
      const pr = this.tracker.progress.get(id);
      if (!pr) this.tracker.addProgress(id, nextIndex, next.learners.includes(id));
      else pr.isLearner = next.learners.includes(id);
    }
    this.tracker.voters = new Set(next.voters);
    this.tracker.learners = new Set(next.learners);
    if (this.role === 'leader') {
      if (!this.tracker.isVoter(this.id)) {
        // A leader removed from the configuration steps down; the remaining voters elect a new leader.
        this.becomeFollower(this.term, NO_NODE);
        return next;
      }
      if (this.leadTransferee !== NO_NODE && !this.tracker.isVoter(this.leadTransferee)) {
        this.leadTransferee = NO_NODE;
      }
      // A smaller quorum may commit more; a new member needs its first append.
      if (this.maybeCommit()) this.afterCommit();
      else this.forEachPeer((id) => this.maybeSendAppend(id, false));
    }
    return next;
  }

  // ---- step ----

  step(m: Message): void {
    if (m.term === 0) {
      // Local message.
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader lease (thesis §4.2.3): while we hear from a leader, ignore disruptive candidates — unless the
        // leader itself asked for the election by transferring leadership.
        if (!isTransferContext(m.context) && this.inLease()) return;
      }
      if (m.type === 'preVote') {
        // A pre-vote does not change our term.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // We raise our term when a quorum grants the pre-vote, not before.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NO_NODE);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader that cannot learn our term (because pre-vote keeps us from disrupting it) would never
        // step down: tell it.
        this.send({ type: 'appResp', to: m.from });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'hup':
        this.hup(false);
        return;
      case 'vote':
      case 'preVote': {
        const canVote =
          this.vote === m.from ||
          (this.vote === NO_NODE && this.lead === NO_NODE) ||
          (m.type === 'preVote' && m.term > this.term);
        const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          this.send({ type: respType, to: m.from, term: m.term });
          if (m.type === 'vote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send({ type: respType, to: m.from, term: this.term, reject: true });
        }
        return;
      }
      default:
        break;
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'beat':
        this.bcastHeartbeat(this.readOnly.lastPendingContext());
        return;
      case 'checkQuorum':
        if (!this.tracker.quorumActive(this.id)) {
          this.becomeFollower(this.term, NO_NODE);
          return;
        }
        this.forEachPeer((id) => {
          const pr = this.tracker.progress.get(id)!;
          pr.recentActive = false;
          // A snapshot that got no answer for several rounds was lost: probe again (which resends it if needed).
          if (pr.state === 'snapshot' && ++pr.snapshotRounds > SNAPSHOT_ROUNDS_MAX) pr.becomeProbe();
        });
        return;
      case 'readIndex':
        this.leaderReadIndex(m);
        return;
      case 'transferLeader':
        this.leaderTransfer(m.from);
        return;
      default:
        break;
    }
    const pr = this.tracker.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case 'appResp':
        pr.recentActive = true;
        if (m.reject) {
          const hint =
            m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.logTerm).index : m.rejectHint;
          if (pr.maybeDecrTo(m.index, hint)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.maybeSendAppend(m.from, true);
          }
          return;
        }
        {
          // In probe state an ack of exactly `match` still proves the logs agree there: start replicating.
          const updated = pr.maybeUpdate(m.index) || (pr.state === 'probe' && pr.match === m.index);
          if (!updated) return;
          if (pr.state === 'probe') pr.becomeReplicate();
          else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
          if (this.maybeCommit()) this.afterCommit();
          // Keep the pipeline full while the follower is behind.
          while (this.maybeSendAppend(m.from, false)) {
            /* send until paused or caught up */
          }
          // A caught-up follower learns a newer commit index now rather than at the next heartbeat.
          if (pr.sentCommit < this.log.committed) this.maybeSendAppend(m.from, true);
          if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
            this.send({ type: 'timeoutNow', to: m.from });
          }
        }
        return;
      case 'heartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // The follower is alive; if its acks were lost the pipeline is stuck full: let one more append through.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.maybeSendAppend(m.from, true);
        if (!m.context || m.context.byteLength === 0) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!acks || voteResult(this.tracker.voters, acks) !== 'won') return;
        for (const { index, request } of this.readOnly.advance(m.context)) this.answerRead(request, index);
        return;
      }
      case 'snapStatus':
        if (pr.state !== 'snapshot') return;
        // Either way, wait for the follower's answer (or a heartbeat) before sending more.
        pr.becomeProbe();
        pr.probeSent = true;
        return;
      case 'unreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  private afterCommit(): void {
    if (this.pendingReadIndexMessages.length > 0 && this.committedEntryInCurrentTerm()) {
      const pending = this.pendingReadIndexMessages;
      this.pendingReadIndexMessages = [];
      for (const m of pending) this.leaderReadIndex(m);
    }
    this.bcastAppend();
  }

  private maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committed(), this.term);
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOrUndefined(this.log.committed) === this.term;
  }

  private answerRead(request: Message, index: number): void {
    if (request.from === this.id) {
      this.readStates.push({ index, context: request.context ?? new Uint8Array() });
    } else {
      this.send({
        type: 'readIndexResp',
        to: request.from,
        index,
        ...(request.context ? { context: request.context } : {}),
      });
    }
  }

  private leaderReadIndex(m: Message): void {
    // Until this leader commits an entry of its term it does not know the latest commit index (thesis §6.4).
    // This holds for a single voter too: it may have been elected with a commit index it learned late.
    if (!this.committedEntryInCurrentTerm()) {
      if (this.pendingReadIndexMessages.length < MAX_PENDING_READS) this.pendingReadIndexMessages.push(m);
      return;
    }
    if (this.tracker.voters.size === 1 && this.tracker.isVoter(this.id)) {
      this.answerRead(m, this.log.committed);
      return;
    }
    if (!this.readOnly.add(this.log.committed, m)) return;
    const acks = this.readOnly.recvAck(this.id, m.context);
    if (acks && voteResult(this.tracker.voters, acks) === 'won') {
      for (const { index, request } of this.readOnly.advance(m.context)) this.answerRead(request, index);
      return;
    }
    this.bcastHeartbeat(m.context);
  }

  private leaderTransfer(transferee: NodeId): void {
    const pr = this.tracker.progress.get(transferee);
    if (!pr || pr.isLearner || transferee === this.id) return;
    if (this.leadTransferee === transferee) return; // already running
    this.leadTransferee = transferee;
    // The transfer must finish within an election timeout, counted from now.
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: transferee });
    else this.maybeSendAppend(transferee, true);
  }

  private stepCandidate(m: Message): void {
    const myResp = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'voteResp':
      case 'preVoteResp': {
        if (m.type !== myResp) return;
        this.tracker.recordVote(m.from, !m.reject);
        const result = this.tracker.tallyVotes();
        if (result === 'won') {
          if (this.role === 'preCandidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          this.becomeFollower(this.term, NO_NODE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'transferLeader':
        // Forward the request to the leader; the transferee is named in `from` as in etcd.
        if (this.lead !== NO_NODE && m.from === this.id) this.send({ type: 'transferLeader', to: this.lead });
        return;
      case 'timeoutNow':
        // The leader asked us to take over: campaign at once, skipping pre-vote (thesis §3.10).
        this.hup(true);
        return;
      case 'readIndex':
        // Only our own host's reads are forwarded; a forwarded read that reached a non-leader is dropped.
        if (this.lead !== NO_NODE && m.from === this.id) {
          this.send({ type: 'readIndex', to: this.lead, ...(m.context ? { context: m.context } : {}) });
        }
        return;
      case 'readIndexResp':
        this.readStates.push({ index: m.index, context: m.context ?? new Uint8Array() });
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({ type: 'appResp', to: m.from, index: lastNew });
      return;
    }
    // Fast backtracking: point the leader at the last index whose term is ≤ the term it probed with.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({
      type: 'appResp',
      to: m.from,
      index: m.index,
      reject: true,
      rejectHint: hint.index,
      logTerm: hint.term,
    });
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send({ type: 'heartbeatResp', to: m.from, ...(m.context ? { context: m.context } : {}) });
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (snapshot && this.restore(snapshot)) {
      this.send({ type: 'appResp', to: m.from, index: this.log.lastIndex() });
    } else {
      this.send({ type: 'appResp', to: m.from, index: this.log.committed });
    }
  }

  /** Installs a snapshot from the leader unless our log already covers it. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    if (this.log.matchTerm(index, term)) {
      // We already have the entry: just learn that it is committed.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(snapshot);
    this.tracker.reset(confState, this.log.lastIndex() + 1);
    return true;
  }

  /** Local request from the host: transfer leadership to `transferee`. */
  transferLeadership(transferee: NodeId): void {
    this.step(this.local('transferLeader', { from: transferee }));
  }

  readIndex(context: Uint8Array): void {
    this.step(this.local('readIndex', { context }));
  }

  campaignNow(): void {
    this.step(this.local('hup'));
  }

  reportUnreachable(id: NodeId): void {
    this.step(this.local('unreachable', { from: id }));
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.step(this.local('snapStatus', { from: id, reject: !ok }));
  }

  /** Checks invariants that must hold between steps (TigerBeetle style: cheap enough to keep on). */
  assertInvariants(): void {
    invariant(this.log.committed <= this.log.lastIndex(), () => 'commit beyond last index');
    invariant(this.log.applied <= this.log.committed, () => 'applied beyond commit');
    invariant(this.role !== 'leader' || this.lead === this.id, () => 'leader does not know itself as leader');
    invariant(this.role !== 'candidate' || this.vote === this.id, () => 'candidate did not vote for itself');
  }
}
