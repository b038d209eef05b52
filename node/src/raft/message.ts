// A Message with every field the wire carries: the ones a message type does not use are zero, empty or false, so
// the core, the codecs and the tests build messages one way.
import type { Message, MessageType, NodeId } from './types.js';

export function newMessage(
  type: MessageType,
  from: NodeId,
  to: NodeId,
  init: Partial<Message> = {},
): Message {
  return {
    type,
    from,
    to,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...init,
  };
}
