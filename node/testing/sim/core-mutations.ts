// Bugs planted in the Raft core from outside, one RawNode instance at a time, for the tests that show the checkers
// are sharp (mutation testing: plant a bug, the checkers must fail the run). Each patches public members of an
// instance after it is built: node/src/raft has no switch for any of them, and nothing that ships imports this file.
import { NO_NODE, type ConfChange, type Message, type RawNode } from '../../src/raft/index.js';

export interface CoreMutations {
  /**
   * Drops the one-configuration-change-at-a-time guard (raft.ts proposeConfChange: a change is refused while
   * pendingConfIndex > applied; thesis §4.1, etcd-io/raft doc.go "Implementation notes").
   */
  readonly dropConfChangeGuard?: boolean;
  /** A pre-vote request of a higher term makes its receiver adopt that term (thesis §9.6 says it must not). */
  readonly preVoteAdoptsTerm?: boolean;
  /** A leader ignores append and heartbeat responses of a higher term instead of stepping down at once (Figure 2). */
  readonly leaderIgnoresHigherTermResponses?: boolean;
  /**
   * A follower that accepts an append commits up to min(leader commit, its own last index) instead of the append's
   * last new entry (Figure 2: "min(leaderCommit, index of last new entry)"): entries after the append that it has
   * not been shown to share with the leader can be committed.
   */
  readonly commitToLogEnd?: boolean;
}

export const CORE_MUTATION_NAMES = [
  'dropConfChangeGuard',
  'preVoteAdoptsTerm',
  'leaderIgnoresHigherTermResponses',
  'commitToLogEnd',
] as const satisfies readonly (keyof CoreMutations)[];

export type CoreMutationName = (typeof CORE_MUTATION_NAMES)[number];

export function isCoreMutationName(name: string): name is CoreMutationName {
  return (CORE_MUTATION_NAMES as readonly string[]).includes(name);
}

/** Plants the chosen bugs in `raw` (a member just built or restarted). */
export function applyCoreMutations(raw: RawNode, mutations: CoreMutations): void {
  const raft = raw.raft;
  if (mutations.dropConfChangeGuard) {
    const propose = raw.proposeConfChange.bind(raw);
    raw.proposeConfChange = (cc: ConfChange) => {
      // The guard compares pendingConfIndex with the applied index: forget the change still in flight.
      raft.pendingConfIndex = 0;
      return propose(cc);
    };
  }
  if (mutations.preVoteAdoptsTerm || mutations.leaderIgnoresHigherTermResponses) {
    const step = raft.step.bind(raft);
    raft.step = (m: Message) => {
      if (mutations.preVoteAdoptsTerm && m.type === 'preVote' && m.term > raft.term) {
        raft.becomeFollower(m.term, NO_NODE);
      }
      if (
        mutations.leaderIgnoresHigherTermResponses &&
        raft.role === 'leader' &&
        m.term > raft.term &&
        (m.type === 'appResp' || m.type === 'heartbeatResp')
      ) {
        return;
      }
      step(m);
    };
  }
  if (mutations.commitToLogEnd) {
    const log = raft.log;
    const maybeAppend = log.maybeAppend.bind(log);
    log.maybeAppend = (index, logTerm, committed, entries) => {
      const lastNew = maybeAppend(index, logTerm, committed, entries);
      if (lastNew !== undefined) log.commitTo(Math.min(committed, log.lastIndex()));
      return lastNew;
    };
  }
}
