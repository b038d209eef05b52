// Appends a leader could legally have sent but this core never chooses to: one that starts below what the follower
// already matched (entries it holds again: Raft's AppendEntries is idempotent, §5.3), and one whose entry list is
// cut short (as a byte limit would). They reach the edges of the follower's append handling the core's own leader
// avoids: an append whose last new entry is below the follower's last index, so its commit must be capped at that
// entry and not at the follower's log end (raft-log.ts maybeAppend: commitTo(min(commit, lastNew))).
//
// The core has no hook for the leader's choice of append (raft.ts maybeSendAppend is private), so the simulation
// rewrites the append on its way out, from the leader's own log. The follower sees a legal message; the leader's
// progress still assumes the original went out, which to the follower looks as if the rest of it was lost (it
// rejects the next append and the leader probes back). A hook that let the leader choose (prevIndex and how many
// entries, with Progress updated from what was sent) would make the leader's side exact too.
import type { Entry, Message, RawNode } from '../../src/raft/index.js';
import type { Prng } from '../../src/random/prng.js';

/** How far below the follower's match an append may start. */
const BELOW_MATCH_MAX = 4;

/**
 * A legal variant of the append `m` that `leader` is sending, or undefined when there is none to make (the sender
 * no longer leads the message's term, so its log may have changed since it was made, or the entries it would need
 * were compacted).
 */
export function unusualAppend(m: Message, leader: RawNode, rng: Prng): Message | undefined {
  const raft = leader.raft;
  if (m.type !== 'app' || raft.role !== 'leader' || raft.term !== m.term) return undefined;
  // While a leader leads its term its log only grows, so entries up to the message's end are still the same.
  const log = raft.log;
  const end = m.index + m.entries.length;
  if (end > log.lastIndex()) return undefined;
  let prevIndex = m.index;
  const match = raft.tracker.progress.get(m.to)?.match ?? 0;
  if (rng.chance(0.5) && match > 0) {
    const lowest = Math.max(log.firstIndex() - 1, match - BELOW_MATCH_MAX, 0);
    const highest = Math.min(m.index, match - 1);
    if (lowest <= highest) prevIndex = rng.int(lowest, highest);
  }
  const prevTerm = log.termOrUndefined(prevIndex);
  if (prevTerm === undefined) return undefined;
  let entries: Entry[] = prevIndex < end ? log.slice(prevIndex + 1, end + 1, Number.MAX_SAFE_INTEGER) : [];
  if (entries.length !== end - prevIndex) return undefined;
  // Cut the list short (possibly to nothing) half of the time, or when it was not moved down.
  if (entries.length > 0 && (prevIndex === m.index || rng.chance(0.5)))
    entries = entries.slice(0, rng.int(0, entries.length - 1));
  if (prevIndex === m.index && entries.length === m.entries.length) return undefined;
  return { ...m, index: prevIndex, logTerm: prevTerm, entries };
}
