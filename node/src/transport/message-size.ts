// An upper bound on the protobuf size of a RaftMessage, computed without encoding it. The queue and batch bounds
// must never be exceeded on the wire (a batch over the server's grpc.max_receive_message_length kills the stream),
// so every varint counts at its maximum width; the bound is tight for what dominates real traffic (entry data).

import type { Message } from '../raft/types.js';

const TAG = 1; // every field number here is < 16: one-byte tags
const VARINT64 = 10;
const LENGTH = 5; // a length prefix up to 2^32

function bytesField(length: number): number {
  return TAG + LENGTH + length;
}

function stringField(value: string): number {
  return bytesField(Buffer.byteLength(value, 'utf8'));
}

/** Upper bound of RaftMessage.encode(messageToProto(message)).finish().length. */
export function messageSizeUpperBound(message: Message): number {
  let size = TAG + VARINT64; // type
  size += stringField(message.from) + stringField(message.to);
  size += 5 * (TAG + VARINT64); // term, log_term, index, commit, reject_hint
  size += TAG + 1; // reject
  for (const entry of message.entries) {
    size += bytesField(3 * (TAG + VARINT64) + bytesField(entry.data.length)); // term, index, type, data
  }
  if (message.snapshot !== undefined) {
    const { metadata, data } = message.snapshot;
    let confState = 0;
    for (const id of metadata.confState.voters) confState += stringField(id);
    for (const id of metadata.confState.learners) confState += stringField(id);
    const meta = 2 * (TAG + VARINT64) + bytesField(confState);
    size += bytesField(bytesField(meta) + bytesField(data.length));
  }
  if (message.context !== undefined) size += bytesField(message.context.length);
  return size;
}

/** Upper bound of one message's share of a RaftBatch (its field tag and length prefix included). */
export function batchEntrySizeUpperBound(message: Message): number {
  return bytesField(messageSizeUpperBound(message));
}
