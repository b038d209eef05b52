// The host-facing API of the Raft core (etcd-io/raft rawnode.go). The host loop is:
//   tick()/step()/propose() … → if hasReady(): rd = ready() → send rd.messages → persist → send
//   rd.messagesAfterPersist → apply → advance(rd).
// Everything is synchronous and deterministic; the host owns all I/O and time.
import { decodeConfChange } from './conf-change.js';
import type { RaftConfig } from './config.js';
import { invariant } from './errors.js';
import { Raft } from './raft.js';
import type {
  ConfChange,
  ConfState,
  HardState,
  Message,
  MessageType,
  NodeId,
  ProposalResult,
  RaftStatus,
  Ready,
  SoftState,
} from './types.js';

/** Message types that only the core itself may create; the network must never inject them. */
const LOCAL_ONLY: ReadonlySet<MessageType> = new Set([
  'hup',
  'beat',
  'checkQuorum',
  'unreachable',
  'snapStatus',
]);

/** Bound on committed entry bytes handed out in one Ready, so one Ready never holds an unbounded backlog. */
const MAX_COMMITTED_BYTES_PER_READY = 64 * 1024 * 1024;

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private readyInProgress = false;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (tests and single-member bootstrap; normally elections start on timeouts). */
  campaign(): void {
    this.raft.campaignNow();
  }

  propose(data: Uint8Array): ProposalResult {
    return this.raft.propose([data]);
  }

  /** Proposes several commands in one go; the result's index is that of the last one. */
  proposeBatch(batch: readonly Uint8Array[]): ProposalResult {
    return this.raft.propose(batch);
  }

  proposeConfChange(cc: ConfChange): ProposalResult {
    return this.raft.proposeConfChange(cc);
  }

  /** Feeds a message received from a peer. Local-only message types are refused. */
  step(m: Message): void {
    if (LOCAL_ONLY.has(m.type))
      throw new Error(`refusing to step local message type ${m.type} from the network`);
    if (m.to !== this.raft.id) throw new Error(`message for ${m.to} delivered to ${this.raft.id}`);
    // A message from a member unknown to the leader (e.g. removed) is still stepped: its term may matter.
    this.raft.step(m);
  }

  /** Requests a linearizable read; a ReadState with the same context appears in a later Ready. */
  readIndex(context: Uint8Array): void {
    this.raft.readIndex(context);
  }

  transferLeadership(transferee: NodeId): void {
    this.raft.transferLeadership(transferee);
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  confState(): ConfState {
    return this.raft.confState();
  }

  hasReady(): boolean {
    const r = this.raft;
    const soft = r.softState();
    const hard = r.hardState();
    return (
      soft.leader !== this.prevSoftState.leader ||
      soft.role !== this.prevSoftState.role ||
      !hardStateEqual(hard, this.prevHardState) ||
      r.log.unstable.snapshot !== undefined ||
      r.log.unstable.entries.length > 0 ||
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasNextCommittedEntries()
    );
  }

  /** Collects what the host must do next. Call advance(ready) before the next ready(). */
  ready(): Ready {
    invariant(!this.readyInProgress, () => 'ready() called again before advance()');
    const r = this.raft;
    const soft = r.softState();
    const hard = r.hardState();
    const entries = r.log.unstableEntries();
    const snapshot = r.log.unstable.snapshot;
    const softChanged = soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role;
    const hardChanged = !hardStateEqual(hard, this.prevHardState);
    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      entries,
      ...(snapshot ? { snapshot } : {}),
      committedEntries: r.log.nextCommittedEntries(MAX_COMMITTED_BYTES_PER_READY),
      messages: r.msgs,
      messagesAfterPersist: r.msgsAfterPersist,
      readStates: r.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        hard.term !== this.prevHardState.term ||
        hard.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    this.readyInProgress = true;
    return rd;
  }

  /**
   * Takes the messages that promise nothing durable (everything except what ready() puts in messagesAfterPersist),
   * so the host can send them while it is still persisting a Ready: steps may run between ready() and advance(),
   * and e.g. a leader's appends for new proposals then go out in parallel with its own fsync (thesis §10.2.1).
   * Messages that must wait for persistence stay queued for the next ready().
   */
  takeMessages(): Message[] {
    const r = this.raft;
    const messages = r.msgs;
    r.msgs = [];
    return messages;
  }

  /** The host persisted, sent and applied everything in `rd`. */
  advance(rd: Ready): void {
    invariant(this.readyInProgress, () => 'advance() without a ready()');
    this.readyInProgress = false;
    const r = this.raft;
    const storage = r.cfg.storage;
    if (rd.softState) this.prevSoftState = rd.softState;
    if (rd.snapshot) {
      storage.applySnapshot(rd.snapshot);
      r.log.unstable.stableSnapTo(rd.snapshot.metadata.index);
      if (r.log.applied < rd.snapshot.metadata.index) r.log.applied = rd.snapshot.metadata.index;
      r.onPersisted(rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      storage.append(rd.entries);
      r.log.unstable.stableTo(last.index, last.term);
      r.onPersisted(last.index, last.term);
    }
    if (rd.hardState) {
      storage.setHardState(rd.hardState);
      this.prevHardState = rd.hardState;
    }
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1]!;
      r.log.appliedTo(last.index);
      r.reduceUncommittedSize(rd.committedEntries);
      // Steps may run between ready() and advance(): a snapshot restored meanwhile (still unstable: it comes with
      // the next Ready) set the configuration as of its index, which covers every conf change this Ready committed.
      // Applying them again on top of it is not idempotent (an add then a remove would bring a removed member back).
      const restoredUpTo = r.log.unstable.snapshot?.metadata.index ?? 0;
      for (const e of rd.committedEntries) {
        if (e.type === 'confChange' && e.index > restoredUpTo) r.applyConfChange(decodeConfChange(e.data));
      }
    }
  }

  /**
   * The host took a snapshot of its state machine at the applied index: record it and drop log entries up to
   * `applied - retainEntries` (a few entries are kept so slightly lagging followers need no snapshot).
   */
  compact(data: Uint8Array, retainEntries = 0): void {
    const r = this.raft;
    const storage = r.cfg.storage;
    const applied = r.log.applied;
    invariant(!this.readyInProgress, () => 'compact() between ready() and advance()');
    if (applied <= storage.snapshot().metadata.index) return;
    storage.createSnapshot(applied, r.confState(), data);
    storage.compact(Math.max(storage.firstIndex() - 1, applied - retainEntries));
  }
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
