// Per-message term rules (Raft paper Figure 2, "Rules for Servers / All Servers": "If RPC request or response
// contains term T > currentTerm: set currentTerm = T, convert to follower"), checked around every input a member
// steps and on every Ready it hands out. The exceptions are the core's own, read from node/src/raft/raft.ts:
// - step(): a pre-vote request never changes the receiver's term ("A pre-vote does not change our term"), and a
//   granted pre-vote response does not either ("We raise our term when a quorum grants the pre-vote"); the
//   pre-candidate raises its term by exactly one when that quorum is reached (campaign('election')). A rejected
//   pre-vote response carries the rejecter's term and is adopted like any other message.
// - step(): inside the leader lease (inLease(): check-quorum on, a leader known, electionElapsed below the election
//   timeout) a vote or pre-vote request of a higher term is ignored entirely, unless it carries the leadership
//   transfer context. The checker cannot see electionElapsed, so it demands the observable part: check-quorum is
//   on, a leader was known, no transfer context, and the step changed nothing and sent nothing.
// - becomePreCandidate(): a pre-election changes neither term nor vote (thesis §9.6); its requests carry term + 1.
// - send(): vote traffic carries its own term: vote requests the candidate's (current) term, a granted vote or
//   pre-vote the term that was asked about, a rejection the rejecter's; every other message the sender's current
//   term. A message on the wire never carries term 0: step() takes term 0 for a local message.
// - step() on a message of a lower term: it is dropped (at most answered), and changes no term.
import type { Message, NodeId, Ready, Role } from '../../../src/raft/index.js';

/** The part of a member's state the term rules speak about. */
export interface TermView {
  readonly term: number;
  readonly vote: NodeId;
  readonly lead: NodeId;
  readonly role: Role;
}

/** One input a member handled: a message from the network, or a local input (tick, proposal, advance, ...). */
export interface InputObservation {
  readonly member: NodeId;
  /** The network message stepped; undefined for local inputs. */
  readonly stepped?: Message | undefined;
  /** What the local input was, for the violation message ('tick', 'propose', 'advance', ...). */
  readonly input: string;
  readonly before: TermView;
  readonly after: TermView;
  /** The messages this input queued, in order. */
  readonly sent: readonly Message[];
  /** Whether the member runs with check-quorum, i.e. keeps a leader lease. */
  readonly checkQuorum: boolean;
}

const TRANSFER_CONTEXT = 'transfer';
const decoder = new TextDecoder();

/** raft.ts isTransferContext: vote requests of a leadership transfer may bypass the lease. */
function isTransfer(m: Message): boolean {
  return m.context !== undefined && decoder.decode(m.context) === TRANSFER_CONTEXT;
}

function show(v: TermView): string {
  return `term ${v.term}, vote '${v.vote}', leader '${v.lead}', ${v.role}`;
}

function describe(m: Message): string {
  return `${m.type} ${m.from}→${m.to} t${m.term}${m.reject ? ' (reject)' : ''}`;
}

function sameView(a: TermView, b: TermView): boolean {
  return a.term === b.term && a.vote === b.vote && a.lead === b.lead && a.role === b.role;
}

/** The member started an election within the input: one term up, voted for itself. */
function campaigned(o: InputObservation, fromTerm: number): boolean {
  const a = o.after;
  return a.term === fromTerm + 1 && a.vote === o.member && (a.role === 'candidate' || a.role === 'leader');
}

function where(o: InputObservation): string {
  return `${o.member} ${o.stepped ? `stepping ${describe(o.stepped)}` : `on ${o.input}`}`;
}

/** Checks the term rules for one stepped input. Returns a violation message or undefined. */
export function checkInput(o: InputObservation): string | undefined {
  const { before, after } = o;
  if (after.term < before.term)
    return `term rules: ${where(o)}: term went back from ${before.term} to ${after.term}`;
  const m = o.stepped;
  if (m !== undefined) {
    const problem = checkStepped(o, m);
    if (problem)
      return `term rules: ${where(o)}: ${problem} (before: ${show(before)}; after: ${show(after)})`;
  }
  for (const s of o.sent) {
    const problem = checkSent(o, s);
    if (problem) return `term rules: ${where(o)}: sent ${describe(s)}: ${problem} (now ${show(after)})`;
  }
  return undefined;
}

function checkStepped(o: InputObservation, m: Message): string | undefined {
  const { before, after } = o;
  if (m.term === 0) return 'a network message carries term 0, which the core takes for a local message';
  if (m.type === 'preVote') {
    return after.term === before.term ? undefined : 'a pre-vote request changed the receiver term';
  }
  if (m.type === 'preVoteResp' && !m.reject) {
    if (after.term === before.term) return undefined;
    if (before.role === 'preCandidate' && campaigned(o, before.term)) return undefined;
    return 'a granted pre-vote changed the term other than by winning the pre-election (term + 1, own vote)';
  }
  if (m.term > before.term) {
    if (m.type === 'vote' && after.term === before.term) {
      // The lease exception: the whole message is ignored.
      if (!o.checkQuorum) return 'a vote request of a higher term was not adopted, and check-quorum is off';
      if (before.lead === '') return 'a vote request of a higher term was not adopted without a known leader';
      if (isTransfer(m))
        return 'a transfer vote request of a higher term was not adopted (it bypasses the lease)';
      if (!sameView(before, after) || o.sent.length > 0)
        return 'a vote request ignored inside the lease still changed state or sent messages';
      return undefined;
    }
    if (after.term === m.term) {
      if ((m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') && after.lead !== m.from)
        return `a higher-term ${m.type} was adopted without following its sender`;
      return undefined;
    }
    if (after.term > m.term && campaigned(o, m.term)) return undefined; // e.g. timeoutNow: adopt, then campaign
    return `a message of a higher term ${m.term} was not adopted at once`;
  }
  if (m.term < before.term && after.term !== before.term)
    return `a stale message (term ${m.term}) changed the term`;
  return undefined;
}

function checkSent(o: InputObservation, s: Message): string | undefined {
  const { before, after } = o;
  if (s.term === 0) return 'a message to the network carries term 0';
  if (s.from !== o.member) return `the message is from ${s.from}`;
  switch (s.type) {
    case 'preVote':
      if (after.term !== before.term) return 'a pre-election changed the pre-candidate term';
      if (s.term !== after.term + 1) return `a pre-vote request must ask about term ${after.term + 1}`;
      return undefined;
    case 'preVoteResp':
      if (s.reject)
        return s.term === after.term ? undefined : `a rejection must carry the current term ${after.term}`;
      if (o.stepped?.type !== 'preVote' || s.term !== o.stepped.term)
        return 'a pre-vote grant must carry the term it was asked about';
      return s.term >= after.term ? undefined : 'a pre-vote was granted for a term below our own';
    default:
      return s.term === after.term ? undefined : `it must carry the current term ${after.term}`;
  }
}

/**
 * Checks the messages of a Ready against the member's term when it was collected (`term`); `prevTerm` is the term
 * of the member's previous Ready in this incarnation. Messages may be older than the Ready (batched inputs, a
 * persist still running) but never from a later term: only pre-vote requests ask about term + 1, and a pre-vote
 * grant answers the term it was asked about.
 */
export function checkReady(member: NodeId, term: number, prevTerm: number, rd: Ready): string | undefined {
  if (term < prevTerm) return `term rules: ${member}'s Ready has term ${term}, after ${prevTerm}`;
  if (rd.hardState !== undefined && rd.hardState.term !== term)
    return `term rules: ${member}'s Ready hard state has term ${rd.hardState.term}, the member ${term}`;
  if (rd.hardState !== undefined && rd.hardState.term !== prevTerm && !rd.mustSync)
    return `term rules: ${member}'s Ready changes the term to ${rd.hardState.term} without mustSync`;
  for (const m of [...rd.messages, ...rd.messagesAfterPersist]) {
    if (m.term === 0) return `term rules: ${member}'s Ready holds ${describe(m)} with term 0`;
    const limit = m.type === 'preVote' ? term + 1 : term;
    if (m.term > limit && !(m.type === 'preVoteResp' && !m.reject))
      return `term rules: ${member}'s Ready holds ${describe(m)} from a term beyond its own ${term}`;
  }
  return undefined;
}
