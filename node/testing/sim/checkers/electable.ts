// Leader Completeness, checked before it breaks (Raft paper §5.4.3). A committed entry is held by a quorum whose
// logs end in a term at least that of the entry that committed it, and a voter refuses any candidate whose log is
// less up to date than its own (§5.4.1). So in a correct cluster no voter that lacks a committed entry can find a
// quorum of voters whose logs are not more up to date than its own. If one can, some run of message timings
// elects it and the committed entry is overwritten: this checker reports the state that makes the loss possible,
// without waiting for the unlucky election to happen.
//
// Voters are judged by their durable logs: that is what each one votes with after a crash and a restart right now,
// a state the cluster can reach. Commits by counting replicas of an earlier term's entry (breaking the Figure 8
// rule) produce exactly such a state: the majority holding the entry ends in an old term, and a voter that led a
// later term for a moment outranks them.
//
// Membership changes: a quorum is one of the configuration judged (a joint configuration needs both halves,
// etcd-io/raft quorum/joint.go). The simulation judges every committed entry against each configuration in force
// from the entry's index on. That is sound for a correct core: the entry was committed by a quorum of the
// configuration in force at its index or of the one before (a change takes effect when applied, and the leader
// proposes a change only once the previous one is applied: etcd-io/raft doc.go "Implementation notes"), and
// consecutive configurations differ by one voter, so their quorums intersect; each later change was committed by a
// quorum holding the entry (its index is higher), so the argument carries forward. Two changes in flight at once
// break exactly that intersection, and this check sees it while the logs still allow the loss.
import type { NodeId } from '../../../src/raft/index.js';
import type { LogView } from './committed-log.js';
import { isQuorum, showConfiguration, type Configuration } from './configuration.js';

export interface LogTip {
  readonly index: number;
  readonly term: number;
}

/** Raft §5.4.1: `a` is at least as up to date as `b` (later last term, or the same last term and no shorter). */
export function atLeastAsUpToDate(a: LogTip, b: LogTip): boolean {
  return a.term > b.term || (a.term === b.term && a.index >= b.index);
}

/** The tip of a log view: its last index and that entry's term (a snapshot's when the log is empty). */
export function tipOf(log: LogView): LogTip {
  const index = log.lastIndex();
  return { index, term: log.termAt(index) ?? 0 };
}

/** Whether the log holds entry (index, term), or a snapshot past it (a snapshot holds only committed entries). */
export function holdsEntry(log: LogView, index: number, term: number): boolean {
  if (log.firstIndex() - 1 > index) return true;
  return log.termAt(index) === term;
}

export interface Voter {
  readonly id: NodeId;
  /**
   * The logs it may campaign with: its log in memory when running, and its durable log (a crash and a restart now
   * leave it with that).
   */
  readonly campaignLogs: readonly LogView[];
  /** Its durable log: whose tip it judges candidates by after a crash and restart. */
  readonly durableLog: LogView;
}

/**
 * Returns a violation when a voter of `config` lacking the committed entry (index, term) is at least as up to date
 * as the durable logs of a quorum of `config` (counting itself). `voters` are the voters of `config` that can still
 * take part (a member wiped for good neither campaigns nor votes); without `config`, they form one majority.
 */
export function findElectableWithoutCommitted(
  committed: LogTip & { readonly appliedBy: NodeId },
  voters: readonly Voter[],
  config: Configuration = { incoming: voters.map((v) => v.id), outgoing: [], learners: [] },
): string | undefined {
  const present = voters.filter((v) => config.incoming.includes(v.id) || config.outgoing.includes(v.id));
  let tips: LogTip[] | undefined;
  for (const candidate of present) {
    for (const log of candidate.campaignLogs) {
      if (holdsEntry(log, committed.index, committed.term)) continue;
      tips ??= present.map((v) => tipOf(v.durableLog));
      const tip = tipOf(log);
      const granted = new Set<NodeId>();
      for (let i = 0; i < present.length; i++)
        if (present[i]!.id === candidate.id || atLeastAsUpToDate(tip, tips[i]!)) granted.add(present[i]!.id);
      if (!isQuorum(config, granted)) continue;
      const supporters = present
        .map((v, i) => ({ id: v.id, tip: tips![i]! }))
        .filter((v) => granted.has(v.id));
      const held = log.termAt(committed.index);
      const quorum =
        config.outgoing.length > 0
          ? `a quorum of the joint configuration ${showConfiguration(config)}`
          : `a majority of the ${config.incoming.length} voters ${showConfiguration(config)}`;
      return (
        `leader completeness at risk: entry ${committed.index}@${committed.term} was applied by ` +
        `${committed.appliedBy}, but ${candidate.id} ${held === undefined ? 'lacks it' : `holds ${committed.index}@${held} instead`} ` +
        `and its log (ending ${tip.index}@${tip.term}) is at least as up to date as the durable logs of ` +
        `${supporters.map((v) => `${v.id} (${v.tip.index}@${v.tip.term})`).join(', ')}: ` +
        `${quorum} would elect it`
      );
    }
  }
  return undefined;
}
