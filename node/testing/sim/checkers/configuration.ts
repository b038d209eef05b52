// Configurations as the checkers see them, written apart from the core (a checker that reused the core's quorum
// code would agree with its bugs). The shapes follow etcd-io/raft: quorum/majority.go (a majority configuration;
// an empty one wins every vote, so half of a joint configuration behaves like a plain majority), quorum/joint.go
// (a joint configuration decides only with both majorities) and confchange/confchange.go (Changer.Simple: a
// simple change may change at most one voter, never inside a joint configuration).
//
// The core makes single-server changes only (node/src/raft/types.ts ConfChange: addLearner, promote, remove; a
// change that does not apply leaves the configuration as it was, conf-change.ts) and, like etcd (doc.go,
// "Implementation notes"), a change takes effect when its entry is applied. The history below records the
// committed changes in log order, so `at(i)` is the configuration every member must hold once it applied up to i.
import type { ConfChange, ConfState, NodeId } from '../../../src/raft/index.js';

/** A configuration: voters in `incoming` and, during a joint change, also `outgoing` (empty otherwise). */
export interface Configuration {
  readonly incoming: readonly NodeId[];
  readonly outgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

export function fromConfState(cs: ConfState): Configuration {
  return { incoming: [...cs.voters].sort(), outgoing: [], learners: [...cs.learners].sort() };
}

export function isJoint(c: Configuration): boolean {
  return c.outgoing.length > 0;
}

/** Every member that votes in `c` (either half of a joint configuration). */
export function votersOf(c: Configuration): NodeId[] {
  return [...new Set([...c.incoming, ...c.outgoing])].sort();
}

export function showConfiguration(c: Configuration): string {
  const half = (ids: readonly NodeId[]): string => `(${ids.join(' ')})`;
  const voters = isJoint(c) ? `${half(c.incoming)}&&${half(c.outgoing)}` : half(c.incoming);
  return c.learners.length > 0 ? `${voters} learners ${half(c.learners)}` : voters;
}

/** quorum/majority.go VoteResult: yes from a majority wins; no from enough that a majority is out of reach loses. */
export function majorityVote(
  voters: readonly NodeId[],
  vote: (id: NodeId) => boolean | undefined,
): VoteOutcome {
  if (voters.length === 0) return 'won';
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = vote(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(voters.length / 2) + 1;
  if (yes >= q) return 'won';
  if (yes + missing >= q) return 'pending';
  return 'lost';
}

/** quorum/joint.go VoteResult: both majorities must win; if either lost, the whole vote is lost. */
export function jointVote(c: Configuration, vote: (id: NodeId) => boolean | undefined): VoteOutcome {
  const a = majorityVote(c.incoming, vote);
  const b = majorityVote(c.outgoing, vote);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

/** Whether the members in `yes` form a quorum of `c` (everyone else votes no). */
export function isQuorum(c: Configuration, yes: ReadonlySet<NodeId>): boolean {
  return jointVote(c, (id) => yes.has(id)) === 'won';
}

function symmetricDifference(a: readonly NodeId[], b: readonly NodeId[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  let n = 0;
  for (const id of sa) if (!sb.has(id)) n++;
  for (const id of sb) if (!sa.has(id)) n++;
  return n;
}

/**
 * A single-server change as the core documents it. A change that does not apply (adding a member twice,
 * promoting a non-learner, removing a non-member or the last voter) leaves the configuration as it was.
 */
export function applySimpleChange(c: Configuration, cc: ConfChange): Configuration {
  if (isJoint(c))
    throw new Error(`a simple change ${cc.type} ${cc.nodeId} inside the joint ${showConfiguration(c)}`);
  const voter = c.incoming.includes(cc.nodeId);
  const learner = c.learners.includes(cc.nodeId);
  const without = (ids: readonly NodeId[]): NodeId[] => ids.filter((id) => id !== cc.nodeId);
  let next: Configuration = c;
  switch (cc.type) {
    case 'addLearner':
      if (!voter && !learner) next = { ...c, learners: [...c.learners, cc.nodeId].sort() };
      break;
    case 'promote':
      if (learner)
        next = { ...c, incoming: [...c.incoming, cc.nodeId].sort(), learners: without(c.learners) };
      break;
    case 'remove':
      if (learner || (voter && c.incoming.length > 1))
        next = { ...c, incoming: without(c.incoming), learners: without(c.learners) };
      break;
  }
  // confchange.go Simple: "more than one voter changed without entering joint config".
  if (symmetricDifference(c.incoming, next.incoming) > 1) throw new Error('a simple change moved two voters');
  return next;
}

function sameMembers(ids: readonly NodeId[], set: ReadonlySet<NodeId>): boolean {
  if (ids.length !== set.size) return false;
  for (const id of ids) if (!set.has(id)) return false;
  return true;
}

export function sameConfiguration(a: Configuration, b: Configuration): boolean {
  return (
    sameMembers(a.incoming, new Set(b.incoming)) &&
    sameMembers(a.outgoing, new Set(b.outgoing)) &&
    sameMembers(a.learners, new Set(b.learners))
  );
}

/** Whether a member's voters and learners (as the core's tracker holds them) are those of the simple `c`. */
export function holdsConfiguration(
  c: Configuration,
  voters: ReadonlySet<NodeId>,
  learners: ReadonlySet<NodeId>,
): boolean {
  return c.outgoing.length === 0 && sameMembers(c.incoming, voters) && sameMembers(c.learners, learners);
}

const EMPTY: Configuration = { incoming: [], outgoing: [], learners: [] };

/** A configuration and the committed indexes it is in force for: from its change's index to the next one's. */
export interface ConfigurationSpan {
  readonly config: Configuration;
  /** votersOf(config). */
  readonly voters: readonly NodeId[];
  /** The index of the entry that made it (the bootstrap snapshot's index for the first). */
  readonly from: number;
  /** The last index it is in force for: just before the next change, or the end asked for. */
  readonly to: number;
}

/** The configurations of the committed log, in order. */
export class ConfigurationHistory {
  private readonly spans: { config: Configuration; voters: readonly NodeId[]; from: number }[];

  constructor(initial: Configuration, atIndex: number) {
    this.spans = [{ config: initial, voters: votersOf(initial), from: atIndex }];
  }

  /**
   * The committed entry at `index` holds `cc`. Committed entries are first applied in index order, so changes
   * arrive in order; one seen again (another member applying it) is ignored.
   */
  observe(index: number, cc: ConfChange): void {
    const last = this.spans[this.spans.length - 1]!;
    if (index <= last.from) return;
    const config = applySimpleChange(last.config, cc);
    this.spans.push({ config, voters: votersOf(config), from: index });
  }

  /** The configuration in force once every entry up to `index` is applied (none before the first one). */
  at(index: number): Configuration {
    let found = EMPTY;
    for (const s of this.spans) {
      if (s.from > index) break;
      found = s.config;
    }
    return found;
  }

  /** Every configuration in force for some index in [first, upTo], with the indexes it covers in that range. */
  spansUpTo(upTo: number): ConfigurationSpan[] {
    const out: ConfigurationSpan[] = [];
    for (let i = 0; i < this.spans.length; i++) {
      const s = this.spans[i]!;
      if (s.from > upTo) break;
      const next = this.spans[i + 1];
      out.push({
        config: s.config,
        voters: s.voters,
        from: s.from,
        to: next && next.from <= upTo ? next.from - 1 : upTo,
      });
    }
    return out;
  }

  get length(): number {
    return this.spans.length;
  }
}
