// One readable line per message for the replay trace, e.g. `n1→n2 app t3 i10/t3 +2 c9`.
import type { Message } from '../../src/raft/index.js';

const decoder = new TextDecoder();

export function describeMessage(m: Message): string {
  const head = `${m.from}→${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'app':
      return `${head} i${m.index}/t${m.logTerm} +${m.entries.length}${m.entries.length > 0 ? `(${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index})` : ''} c${m.commit}`;
    case 'appResp':
      return `${head} i${m.index}${m.reject ? ` REJECT hint ${m.rejectHint}/t${m.logTerm}` : ''}`;
    case 'vote':
    case 'preVote':
      return `${head} last ${m.index}/t${m.logTerm}${m.context ? ' (transfer)' : ''}`;
    case 'voteResp':
    case 'preVoteResp':
      return `${head} ${m.reject ? 'REJECT' : 'GRANT'}`;
    case 'heartbeat':
      return `${head} c${m.commit}${m.context ? ` ctx ${decoder.decode(m.context)}` : ''}`;
    case 'heartbeatResp':
      return `${head}${m.context ? ` ctx ${decoder.decode(m.context)}` : ''}`;
    case 'snap':
      return `${head} snapshot ${m.snapshot?.metadata.index}/t${m.snapshot?.metadata.term} voters ${m.snapshot?.metadata.confState.voters.join(',')} learners ${m.snapshot?.metadata.confState.learners.join(',')}`;
    case 'readIndex':
    case 'readIndexResp':
      return `${head} i${m.index}${m.context ? ` ctx ${decoder.decode(m.context)}` : ''}`;
    default:
      return head;
  }
}
