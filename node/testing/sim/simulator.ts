// One seed of the deterministic cluster simulation (TigerBeetle VOPR style): the real Raft core runs as several
// members in one process; the seed drives the network, the disks, the clocks, the faults and the clients. After
// every step the checkers look at the touched member (and the term rules at every input it stepped and every Ready
// it handed out); at the end the client history must be linearizable.
// Nothing here reads the wall clock or Math.random: the same seed gives the same run, event for event.
import { checkLinearizable, type CheckResult } from '../lincheck/check.js';
import type { Operation } from '../lincheck/history.js';
import { kvModel, type KvInput, type KvOutput } from '../lincheck/kv-model.js';
import {
  decodeConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type Snapshot,
} from '../../src/raft/index.js';
import { CommittedLogChecker, type LogView } from './checkers/committed-log.js';
import {
  ConfigurationHistory,
  fromConfState,
  holdsConfiguration,
  sameConfiguration,
  showConfiguration,
} from './checkers/configuration.js';
import { findElectableWithoutCommitted, type Voter } from './checkers/electable.js';
import { ElectionSafetyChecker } from './checkers/election-safety.js';
import { LogMatchingChecker } from './checkers/log-matching.js';
import { MonotonicChecker } from './checkers/monotonic.js';
import { checkInput, checkReady, type InputObservation } from './checkers/term-invariants.js';
import { VoteSafetyChecker } from './checkers/vote-safety.js';
import { SimClient, type ClientEnv } from './client.js';
import type { CoreMutations } from './core-mutations.js';
import { decodeCommand } from '../../src/kv/command-codec.js';
import { decodeSnapshotEnvelope } from '../../src/replica/snapshot-envelope.js';
import type { MemberInfo } from '../../src/replica/member-directory.js';
import { EventQueue } from './event-queue.js';
import type { PromisedLog, RecoveredView } from './checkers/promised-log.js';
import type { SimScheduler } from './sim-process.js';
import { Network } from './network.js';
import { Prng } from '../../src/random/prng.js';
import { Scenario, type ScenarioHost } from './scenario.js';
import { drawSeedConfig, withoutFaults, type ConfigOverrides, type SeedConfig } from './seed-config.js';
import { SimNode, type HostBugs, type NodeHooks, type WriteOutcome } from './sim-node.js';
import { describeMessage } from './trace-format.js';
import { unusualAppend } from './unusual-appends.js';

export interface SimOptions extends ConfigOverrides {
  readonly seed: number;
  /** Receives one line per event (message, fault, client operation) when set. */
  readonly trace?: (line: string) => void;
  /** Default true. */
  readonly checkLinearizability?: boolean;
  /** Wall-clock bound on the linearizability check (it is the only unbounded search). Default 20 s. */
  readonly lincheckDeadlineMs?: number;
  /** Deliberately broken host behaviour, for the tests that show the checkers are sharp. */
  readonly hostBugs?: HostBugs;
  /** Bugs planted in the core from outside (core-mutations.ts), for the same purpose. */
  readonly coreMutations?: CoreMutations;
  /** Runs the seed with every fault switched off (seed-config.ts withoutFaults): the liveness baseline. */
  readonly faultsOff?: boolean;
}

export interface SeedStats {
  readonly simulatedMs: number;
  readonly operations: number;
  readonly completed: number;
  readonly unknown: number;
  readonly leaders: number;
  readonly maxCommitted: number;
  readonly delivered: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly membershipChanges: number;
  readonly transfers: number;
  readonly members: number;
}

/** Time after the faults stop within which the healed cluster must answer a client again. */
export const RECOVERY_MS = 1500;

export interface SeedResult {
  readonly seed: number;
  /**
   * Liveness, reported apart from safety: no client got an answer between faultsUntilMs + RECOVERY_MS and the end
   * although every fault was healed. Raft promises progress only under such calm, so this points at a stuck core.
   */
  readonly stalled: boolean;
  /** Empty when the seed passed. The first safety violation stops the run. */
  readonly violations: readonly string[];
  readonly history: readonly Operation<KvInput, KvOutput>[];
  readonly lincheck: CheckResult['kind'] | 'skipped';
  readonly lincheckReason?: string;
  readonly stats: SeedStats;
  readonly config: SeedConfig;
}

/** A member's durable log (what its storage promised, what it restarts with) as the checkers see it. */
function durableLogView(promised: PromisedLog): LogView {
  return {
    firstIndex: () => promised.firstIndex(),
    lastIndex: () => promised.lastIndex(),
    termAt: (i) => promised.termAt(i),
  };
}

/** Lets every promise the members' code chained run to completion: their host loops, storage and state machines. */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A member's log as the checkers see it (whichever incarnation runs when it is asked). */
function logView(node: SimNode): LogView {
  return {
    firstIndex: () => node.raw!.raft.log.firstIndex(),
    lastIndex: () => node.raw!.raft.log.lastIndex(),
    termAt: (i) => node.raw!.raft.log.termOrUndefined(i),
  };
}

class StopSimulation extends Error {
  override readonly name = 'StopSimulation';
}

export class Simulation implements NodeHooks, ClientEnv, ScenarioHost {
  readonly cfg: SeedConfig;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly network: Network;
  private readonly nodeRng: Prng;
  /** The leaders' unusual but legal choices of append (unusual-appends.ts). */
  private readonly leaderChoices: Prng;
  private readonly scenario: Scenario;
  private readonly clients: SimClient[] = [];
  private readonly history: Operation<KvInput, KvOutput>[] = [];
  private readonly violations: string[] = [];
  private readonly electionSafety = new ElectionSafetyChecker();
  private readonly logMatching = new LogMatchingChecker();
  private readonly committed = new CommittedLogChecker();
  private readonly monotonic = new MonotonicChecker();
  private readonly voteSafety = new VoteSafetyChecker();
  /** The configurations of the committed log (changes are seen when first applied). */
  private readonly configurations: ConfigurationHistory;
  /** The highest committed index the electability check looked at. */
  private electableCheckedAt = -1;
  /** Per member, made once: the electability check as a voter that is running, and as one that is down. */
  private readonly voterViews = new Map<NodeId, { running: Voter; down: Voter }>();
  /** Per member: the incarnation and term of its last Ready (terms of one incarnation never go back). */
  private readonly readyTerms = new Map<NodeId, { incarnation: number; term: number }>();
  /** Canonical state-machine bytes at each snapshot index: every member's snapshot at an index must be equal. */
  private readonly snapshotBytes = new Map<number, string>();
  private readonly checkedLeaders = new Set<string>();
  /** Transport feedback for the sender's host: snapshot sent or not, peer unreachable (a cut link). */
  private readonly snapReports: { from: NodeId; to: NodeId; ok: boolean | 'unreachable' }[] = [];
  private lastConf: ConfState | undefined;
  private nextId: number;
  private delivered = 0;
  /** The members' timers and disk completions, by simulated time. */
  private readonly timers = new EventQueue<() => void>();
  /** Which request (session) each committed entry carries: a request in the committed log twice is a bug. */
  private readonly committedRequests = new Map<string, number>();
  /** A violation was recorded: the run stops at the next check. */
  private failed = false;
  /** Members whose core took an input since the last check: only they can have changed. */
  private readonly touched = new Set<SimNode>();
  now = 0;
  readonly scheduler: SimScheduler = {
    now: () => this.now,
    // Simulated time is whole milliseconds; a timer set for a fraction of one fires at the next.
    at: (timeMs, fn) => this.timers.push(Math.max(Math.ceil(timeMs), this.now), fn),
  };

  constructor(private readonly options: SimOptions) {
    const root = new Prng(options.seed);
    const drawn = drawSeedConfig(root.fork('config'), options);
    this.cfg = options.faultsOff ? withoutFaults(drawn) : drawn;
    this.network = new Network(root.fork('network'), this.cfg.network);
    this.nodeRng = root.fork('nodes');
    this.scenario = new Scenario(root.fork('faults'), this.cfg, this);
    const clientRng = root.fork('clients');
    this.leaderChoices = root.fork('leader-choices');
    const founders = Array.from({ length: this.cfg.founders }, (_, i) => `n${i + 1}`);
    this.nextId = founders.length + 1;
    // The group starts as node-process.ts bootstraps one: a snapshot at index 1 with the founders as voters.
    this.configurations = new ConfigurationHistory(fromConfState({ voters: founders, learners: [] }), 1);
    const directory: MemberInfo[] = founders.map((id) => ({
      id,
      name: id,
      peerAddress: `${id}:2380`,
      clientAddress: `${id}:2379`,
    }));
    for (const id of founders) this.createNode(id, directory);
    for (let i = 1; i <= this.cfg.clients; i++) {
      this.clients.push(
        new SimClient(i, clientRng.fork(`client${i}`), this.cfg.client, this, clientRng.int(0, 50)),
      );
    }
  }

  // ---- running ----

  async run(): Promise<SeedResult> {
    const cfg = this.cfg;
    let nextScenarioAt = cfg.scenarioStepMs;
    const batch = cfg.node.batchInputs;
    try {
      await this.settle();
      while (this.now <= cfg.durationMs) {
        const now = this.now;
        this.flushSnapshotReports();
        for (;;) {
          const m = this.network.deliverDue(now, (lost) =>
            this.traceLine(`drop (partition) ${describeMessage(lost)}`),
          );
          if (m === undefined) break;
          this.deliver(m);
          if (!batch) await this.settle();
        }
        await this.runDueTimers(now, batch);
        this.scenario.runDueCuts(now);
        if (now >= nextScenarioAt) {
          nextScenarioAt += cfg.scenarioStepMs;
          this.scenario.step(now);
          await this.settle();
          this.checkElectable();
        }
        const issueNew = now < cfg.clientsUntilMs;
        for (const c of this.clients) if (c.nextActionAt <= now) c.act(now, issueNew);
        await this.settle();
        // What the members did just now may be due just now too (a crash at the fsync, a thawed process).
        await this.runDueTimers(now, batch);
        this.now = this.nextTime(nextScenarioAt);
      }
    } catch (err) {
      if (!(err instanceof StopSimulation))
        this.violations.push(`t=${this.now}: exception: ${describeError(err)}`);
    }
    this.now = Math.min(this.now, cfg.durationMs);
    for (const node of this.nodes.values()) if (node.state !== 'gone') node.retire();
    for (const c of this.clients) c.giveUp(this.now, 'run ended');
    return this.finish();
  }

  /** Fires the members' timers and disk completions due at `now`, including those they schedule for `now`. */
  private async runDueTimers(now: number, batch: boolean): Promise<void> {
    for (;;) {
      const fn = this.timers.popDue(now);
      if (fn === undefined) break;
      fn();
      if (!batch) await this.settle();
    }
    await this.settle();
    if (this.timers.peekTime() <= now) await this.runDueTimers(now, batch);
  }

  /** Lets the members' code run to rest, then checks every running member. */
  private async settle(): Promise<void> {
    await settleMicrotasks();
    if (this.failed) throw new StopSimulation(this.violations[0] ?? 'violation');
    for (const node of this.touched) this.checkNode(node);
    this.touched.clear();
  }

  private nextTime(nextScenarioAt: number): number {
    let t = Math.min(
      nextScenarioAt,
      this.network.nextDeliveryTime(),
      this.scenario.nextCutAt(),
      this.timers.peekTime(),
    );
    if (this.snapReports.length > 0) t = this.now + 1;
    for (const c of this.clients) if (c.nextActionAt < t) t = c.nextActionAt;
    return Math.max(this.now + 1, t);
  }

  private finish(): SeedResult {
    let lincheck: SeedResult['lincheck'] = 'skipped';
    let lincheckReason: string | undefined;
    if (this.violations.length === 0 && this.options.checkLinearizability !== false) {
      const result = checkLinearizable(kvModel, this.history, {
        deadlineMs: this.options.lincheckDeadlineMs ?? 20_000,
      });
      lincheck = result.kind;
      if (result.kind === 'violation') this.violations.push(`linearizability: ${result.explanation}`);
      if (result.kind === 'unknown') lincheckReason = result.reason;
    }
    const completed = this.clients.reduce((n, c) => n + c.completed, 0);
    const recoveredBy = this.cfg.faultsUntilMs + RECOVERY_MS;
    const stalled =
      this.violations.length === 0 &&
      this.now >= this.cfg.clientsUntilMs &&
      recoveredBy < this.cfg.clientsUntilMs &&
      this.clients.every((c) => c.lastCompletionAt < recoveredBy);
    const unknown = this.clients.reduce((n, c) => n + c.unknown, 0);
    return {
      seed: this.options.seed,
      stalled,
      violations: this.violations,
      history: this.history,
      lincheck,
      ...(lincheckReason === undefined ? {} : { lincheckReason }),
      config: this.cfg,
      stats: {
        simulatedMs: this.now,
        operations: this.history.length,
        completed,
        unknown,
        leaders: this.electionSafety.termsWithLeader(),
        maxCommitted: this.committed.maxIndex,
        delivered: this.delivered,
        crashes: this.scenario.crashes,
        partitions: this.scenario.partitions,
        membershipChanges: this.scenario.membershipChanges,
        transfers: this.scenario.transfers,
        members: this.nodes.size,
      },
    };
  }

  /** Records a violation and stops the code that found it; the run ends at its next check. */
  private fail(what: string): never {
    this.recordViolation(what);
    throw new StopSimulation(what);
  }

  private recordViolation(what: string): void {
    if (this.failed) return;
    this.failed = true;
    this.violations.push(`t=${this.now}: ${what}`);
    this.traceLine(`VIOLATION ${what}`);
  }

  private deliver(m: Message): void {
    const node = this.nodes.get(m.to);
    if (node === undefined || node.state === 'down' || node.state === 'gone') {
      this.traceLine(`lost (${node?.state ?? 'no such member'}) ${describeMessage(m)}`);
      if (m.type === 'snap') this.snapReports.push({ from: m.from, to: m.to, ok: false });
      return;
    }
    this.delivered++;
    if (this.options.trace)
      this.traceLine(`${node.state === 'paused' ? 'buffer' : 'deliver'} ${describeMessage(m)}`);
    node.receive(m);
    if (m.type === 'snap') this.snapReports.push({ from: m.from, to: m.to, ok: true });
  }

  /** Snapshot delivery reports reach the sender's host after the send returned (never inside its Ready loop). */
  private flushSnapshotReports(): void {
    if (this.snapReports.length === 0) return;
    const reports = this.snapReports.splice(0);
    for (const r of reports) {
      const node = this.nodes.get(r.from);
      if (node?.state !== 'up') continue;
      if (r.ok === 'unreachable') node.reportUnreachable(r.to);
      else node.reportSnapshot(r.to, r.ok);
    }
  }

  // ---- checks ----

  /**
   * Leader Completeness before it breaks (see checkers/electable.ts): judged against every configuration of the
   * committed log, each with the last committed entry of its span. A candidate lacking an earlier entry lacks that
   * one too, so every committed entry is judged against the configurations in force from its index on.
   */
  private checkElectable(): void {
    const max = this.committed.maxIndex;
    this.electableCheckedAt = max;
    if (max <= 1) return;
    for (const span of this.configurations.spansUpTo(max)) {
      const index = span.to;
      const term = this.committed.termAt(index);
      if (index <= 1 || term === undefined) continue;
      const voters: Voter[] = [];
      for (const id of span.voters) {
        const node = this.nodes.get(id);
        // A member wiped for good neither campaigns nor votes again.
        if (node === undefined || node.state === 'gone') continue;
        const v = this.voterViews.get(id)!;
        voters.push(node.state === 'up' || node.state === 'paused' ? v.running : v.down);
      }
      const appliedBy = this.committed.appliedBy(index) ?? '?';
      const problem = findElectableWithoutCommitted({ index, term, appliedBy }, voters, span.config);
      if (problem) {
        const spanText =
          this.configurations.length === 1
            ? ''
            : ` (configuration ${showConfiguration(span.config)}, in force for ${span.from}..${span.to})`;
        this.fail(problem + spanText);
      }
    }
  }

  /**
   * Every member holds the configuration of the committed log at its applied index: changes take effect as they
   * are applied, in order, and a snapshot's configuration as soon as the snapshot is restored (before it is applied).
   */
  private checkConfiguration(node: SimNode): void {
    const raft = node.raw!.raft;
    const at = Math.max(raft.log.applied, raft.log.unstable.snapshot?.metadata.index ?? 0);
    const expected = this.configurations.at(at);
    if (!holdsConfiguration(expected, raft.tracker.voters, raft.tracker.learners)) {
      const held = fromConfState(raft.confState());
      this.fail(
        `configuration: ${node.id} at applied index ${at} holds ${showConfiguration(held)}, but the committed ` +
          `log's configuration there is ${showConfiguration(expected)}`,
      );
    }
  }

  private checkNode(node: SimNode): void {
    if ((node.state !== 'up' && node.state !== 'paused') || node.raw === undefined) return;
    const raft = node.raw.raft;
    const problem = this.monotonic.observe(node.id, node.incarnation, raft.term, raft.log.committed);
    if (problem) this.fail(problem);
    raft.assertInvariants();
    this.checkConfiguration(node);
    if (this.committed.maxIndex !== this.electableCheckedAt) this.checkElectable();
    if (raft.role !== 'leader') return;
    const safety = this.electionSafety.observeLeader(raft.term, node.id);
    if (safety) this.fail(safety);
    const key = `${node.id}@${raft.term}`;
    if (this.checkedLeaders.has(key)) return;
    this.checkedLeaders.add(key);
    this.traceLine(
      `${node.id} LEADER of term ${raft.term} (log ${raft.log.firstIndex()}..${raft.log.lastIndex()}, commit ${raft.log.committed})`,
    );
    const incomplete = this.committed.checkLeader(node.id, raft.term, logView(node));
    if (incomplete) this.fail(incomplete);
    this.scenario.onNewLeader(node, raft.term, this.now);
  }

  // ---- NodeHooks ----

  get tracing(): boolean {
    return this.options.trace !== undefined;
  }

  onStarted(node: SimNode, recovered: RecoveredView | undefined): void {
    this.touched.add(node);
    const raft = node.raw!.raft;
    const from = recovered === undefined ? 'bootstrapped' : 'recovered';
    this.traceLine(
      `${node.id} START (${from}) term ${raft.term} log ${raft.log.firstIndex()}..${raft.log.lastIndex()} commit ${raft.log.committed}`,
    );
    const problem = this.monotonic.observeRestart(node.id, raft.term);
    if (problem) this.recordViolation(problem);
  }

  send(from: SimNode, sent: Message): void {
    let m = sent;
    if (m.type === 'app' && from.raw !== undefined && this.leaderChoices.chance(this.cfg.unusualAppends)) {
      const variant = unusualAppend(m, from.raw, this.leaderChoices);
      if (variant !== undefined) {
        this.traceLine(`${from.id} unusual append ${describeMessage(m)} sent as ${describeMessage(variant)}`);
        m = variant;
      }
    }
    const doubleVote = this.voteSafety.observeSent(m);
    if (doubleVote) this.fail(doubleVote);
    const outcome = this.network.send(m, this.now);
    if (this.options.trace && outcome !== 'queued') this.traceLine(`${outcome} ${describeMessage(m)}`);
    if (m.type === 'snap' && outcome !== 'queued')
      this.snapReports.push({ from: from.id, to: m.to, ok: false });
    // A cut link fails the connection, and the transport tells the core (it stops pipelining to that peer).
    if (outcome === 'blocked' && m.type === 'app')
      this.snapReports.push({ from: from.id, to: m.to, ok: 'unreachable' });
  }

  onInput(node: SimNode, observation: InputObservation): void {
    this.touched.add(node);
    const problem = checkInput(observation);
    if (problem) this.fail(problem);
  }

  onReady(node: SimNode, rd: Ready): void {
    const term = node.raw!.raft.term;
    const last = this.readyTerms.get(node.id);
    const prevTerm = last?.incarnation === node.incarnation ? last.term : term;
    this.readyTerms.set(node.id, { incarnation: node.incarnation, term: rd.hardState?.term ?? prevTerm });
    const problem = checkReady(node.id, term, prevTerm, rd);
    if (problem) this.fail(problem);
  }

  onPersist(node: SimNode, rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>): void {
    const raft = node.raw!.raft;
    if (rd.snapshot) {
      const { index, term, confState } = rd.snapshot.metadata;
      const problem = this.committed.observeSnapshot(node.id, raft.term, index, term);
      if (problem) this.fail(problem);
      const expected = this.configurations.at(index);
      if (!sameConfiguration(expected, fromConfState(confState))) {
        this.fail(
          `configuration: ${node.id} received a snapshot at ${index} with ${showConfiguration(fromConfState(confState))}, ` +
            `but the committed log's configuration there is ${showConfiguration(expected)}`,
        );
      }
      this.compareSnapshot(node, rd.snapshot);
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!;
      const problem = this.logMatching.observeAppend(
        node.id,
        rd.entries,
        raft.log.termOrUndefined(first.index - 1),
      );
      if (problem) this.fail(problem);
    }
  }

  onSynced(node: SimNode, hardState: HardState | undefined): void {
    if (hardState) this.monotonic.observeSynced(node.id, hardState.term);
  }

  onSnapshotApplied(node: SimNode, snapshot: Snapshot): void {
    this.traceNode(node, `install snapshot ${snapshot.metadata.index}/t${snapshot.metadata.term}`);
  }

  onEntryApplied(node: SimNode, entry: Entry): void {
    const raft = node.raw!.raft;
    const { violation, isNew } = this.committed.observeApplied(node.id, raft.term, entry);
    if (violation) this.fail(violation);
    if (!isNew) return;
    if (entry.type === 'confChange') this.configurations.observe(entry.index, decodeConfChange(entry.data));
    this.checkRequestOnce(entry);
    // A newly committed entry must already be in the log of every leader that could have been told about it.
    const bound = this.committed.commitTermBound(entry.index);
    for (const other of this.nodes.values()) {
      if (other.state !== 'up' && other.state !== 'paused') continue;
      const r = other.raw!.raft;
      if (r.role !== 'leader' || r.term < bound) continue;
      const problem = this.committed.checkLeader(other.id, r.term, logView(other), entry.index);
      if (problem) this.fail(problem);
    }
  }

  /**
   * Clients re-send a write only when it can never apply (refused, or its index went to another entry), so no request
   * is in the committed log twice. The state machine would hide a repeat (its session answers it from the cache);
   * this is where it shows.
   */
  private checkRequestOnce(entry: Entry): void {
    if (entry.type !== 'normal' || entry.data.byteLength === 0) return;
    const session = decodeCommand(entry.data).session;
    if (session === undefined) return;
    const earlier = this.committedRequests.get(session.clientId);
    if (earlier !== undefined && earlier !== entry.index) {
      this.fail(
        `request ${session.clientId} is in the committed log twice: at ${earlier} and at ${entry.index}`,
      );
    }
    this.committedRequests.set(session.clientId, entry.index);
  }

  onCompacted(node: SimNode, snapshot: Snapshot): void {
    this.traceNode(node, `compact at ${snapshot.metadata.index}/t${snapshot.metadata.term}`);
    this.compareSnapshot(node, snapshot);
  }

  private compareSnapshot(node: SimNode, snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    if (index <= 1) return; // the bootstrap snapshot is empty
    // The state machine's bytes: the member directory beside them is each member's own view of addresses.
    const d = decodeSnapshotEnvelope(snapshot.data).machine;
    const bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('latin1');
    const known = this.snapshotBytes.get(index);
    if (known === undefined) this.snapshotBytes.set(index, bytes);
    else if (known !== bytes)
      this.fail(`state machine safety: ${node.id}'s snapshot at ${index} differs from another member's`);
  }

  onWriteOutcome(req: string, outcome: WriteOutcome): void {
    this.clientOf(req)?.onWriteOutcome(req, outcome, this.now);
  }

  onReadServed(readId: string, value: string | null, node: SimNode): void {
    this.clientOf(readId)?.onReadServed(readId, value, this.now, node.id);
  }

  /** Reported from the members' asynchronous code: recorded, and the run stops at its next check. */
  violation(node: SimNode, what: string): void {
    this.recordViolation(`${node.id}: ${what}`);
  }

  traceNode(node: SimNode, text: string): void {
    this.traceLine(`${node.id} ${text}`);
  }

  trace(text: string): void {
    this.traceLine(text);
  }

  private clientOf(req: string): SimClient | undefined {
    const m = /^c(\d+)\./.exec(req);
    return m ? this.clients[Number(m[1]) - 1] : undefined;
  }

  // ---- ClientEnv ----

  memberIds(): NodeId[] {
    const ids: NodeId[] = [];
    for (const node of this.nodes.values()) if (node.state !== 'gone') ids.push(node.id);
    return ids;
  }

  node(id: NodeId): SimNode | undefined {
    return this.nodes.get(id);
  }

  record(op: Operation<KvInput, KvOutput>): void {
    this.history.push(op);
  }

  traceLine(text: string): void {
    if (this.options.trace) this.options.trace(`${String(this.now).padStart(6)}ms ${text}`);
  }

  // ---- ScenarioHost ----

  private createNode(id: NodeId, founders: readonly MemberInfo[] | undefined): SimNode {
    const drift = this.nodeRng.int(-1, 1);
    const node = new SimNode(
      id,
      founders,
      this.cfg.node,
      this.cfg.tickMs + drift,
      this.nodeRng.fork(id),
      this,
      this.now,
      this.options.hostBugs,
      this.options.coreMutations,
    );
    this.nodes.set(id, node);
    const durableLog = durableLogView(node.promised);
    this.voterViews.set(id, {
      running: { id, campaignLogs: [logView(node), durableLog], durableLog },
      down: { id, campaignLogs: [durableLog], durableLog },
    });
    node.start();
    return node;
  }

  addNode(): SimNode {
    const id = `n${this.nextId++}`;
    this.traceLine(`${id} CREATE (empty disk)`);
    return this.createNode(id, undefined);
  }

  crash(node: SimNode, why: string): void {
    const { keptWrites, lostWrites, tornWrites } = node.crash();
    this.traceLine(
      `${node.id} CRASH (${why}): kept ${keptWrites} unsynced writes (${tornWrites} torn), lost ${lostWrites}`,
    );
  }

  kill(node: SimNode, why: string): void {
    node.exit();
    this.traceLine(`${node.id} KILLED (${why}): the process died, the machine kept its unsynced writes`);
  }

  /** Starts the member again; its storage recovers asynchronously and onStarted reports it serving. */
  restart(node: SimNode): void {
    this.traceLine(`${node.id} RESTART`);
    node.start();
  }

  retire(node: SimNode, why: string): void {
    node.retire();
    this.traceLine(`${node.id} RETIRE (${why}): wiped, its id is never reused`);
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      if (node.state !== 'up' || node.raw === undefined) continue;
      const r = node.raw.raft;
      if (r.role === 'leader' && (best === undefined || r.term > best.raw!.raft.term)) best = node;
    }
    return best;
  }

  clusterConf(): ConfState | undefined {
    let best: SimNode | undefined;
    for (const node of this.nodes.values()) {
      if ((node.state !== 'up' && node.state !== 'paused') || node.raw === undefined) continue;
      if (best === undefined || node.appliedIndex > best.appliedIndex) best = node;
    }
    if (best) this.lastConf = best.raw!.confState();
    return this.lastConf;
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error)
    return `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  return String(err);
}

/** Runs one seed. */
export function runSeed(options: SimOptions): Promise<SeedResult> {
  return new Simulation(options).run();
}
