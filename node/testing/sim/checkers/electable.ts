// Leader Completeness, checked before it breaks (Raft paper §5.4.3). A committed entry is held by a majority whose
// logs end in a term at least that of the entry that committed it, and a voter refuses any candidate whose log is
// less up to date than its own (§5.4.1). So in a correct cluster no voter that lacks a committed entry can find a
// majority of voters whose logs are not more up to date than its own. If one can, some run of message timings
// elects it and the committed entry is overwritten: this checker reports the state that makes the loss possible,
// without waiting for the unlucky election to happen.
//
// Voters are judged by their durable logs: that is what each one votes with after a crash and a restart right now,
// a state the cluster can reach. Commits by counting replicas of an earlier term's entry (breaking the Figure 8
// rule) produce exactly such a state: the majority holding the entry ends in an old term, and a voter that led a
// later term for a moment outranks them. Only valid while the voters are a fixed set (no membership changes).
import type { NodeId } from '../../../src/raft/index.js';
import type { LogView } from './committed-log.js';

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
 * Returns a violation when a voter lacking the committed entry (index, term) is at least as up to date as a
 * majority of the voters (counting itself).
 */
export function findElectableWithoutCommitted(
  committed: LogTip & { readonly appliedBy: NodeId },
  voters: readonly Voter[],
): string | undefined {
  const quorum = Math.floor(voters.length / 2) + 1;
  let tips: LogTip[] | undefined;
  for (const candidate of voters) {
    for (const log of candidate.campaignLogs) {
      if (holdsEntry(log, committed.index, committed.term)) continue;
      tips ??= voters.map((v) => tipOf(v.durableLog));
      const tip = tipOf(log);
      let votes = 0;
      for (let i = 0; i < voters.length; i++)
        if (voters[i]!.id === candidate.id || atLeastAsUpToDate(tip, tips[i]!)) votes++;
      if (votes < quorum) continue;
      const supporters = voters
        .map((v, i) => ({ id: v.id, tip: tips![i]! }))
        .filter((v) => v.id === candidate.id || atLeastAsUpToDate(tip, v.tip));
      const held = log.termAt(committed.index);
      return (
        `leader completeness at risk: entry ${committed.index}@${committed.term} was applied by ` +
        `${committed.appliedBy}, but ${candidate.id} ${held === undefined ? 'lacks it' : `holds ${committed.index}@${held} instead`} ` +
        `and its log (ending ${tip.index}@${tip.term}) is at least as up to date as the durable logs of ` +
        `${supporters.map((v) => `${v.id} (${v.tip.index}@${v.tip.term})`).join(', ')}: ` +
        `a majority of ${voters.length} voters would elect it`
      );
    }
  }
  return undefined;
}
