// Lossless conversion between the Raft core's Message (node/src/raft/types.ts) and the wire RaftMessage
// (raftstore.v1). The core's types stay free of protobuf; the transport converts at the boundary. Decoding checks
// everything the wire cannot promise (enum values, required sub-messages), so a malformed peer message becomes a
// RaftMessageCodecError instead of reaching the core.

import type {
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  Snapshot,
  SnapshotMetadata,
} from '../raft/types.js';
import type {
  ConfState as ProtoConfState,
  Entry as ProtoEntry,
  Snapshot as ProtoSnapshot,
  SnapshotMetadata as ProtoSnapshotMetadata,
} from '../../shared/api/generated/raftstore/v1/raft.js';
import {
  EntryType as ProtoEntryType,
  MessageType as ProtoMessageType,
  RaftMessage,
} from '../../shared/api/generated/raftstore/v1/raft.js';

export class RaftMessageCodecError extends Error {
  override readonly name = 'RaftMessageCodecError';
}

// A Record over the core's union: adding a MessageType to types.ts without a wire value fails to compile.
const MESSAGE_TYPE_TO_PROTO: Readonly<Record<MessageType, ProtoMessageType>> = {
  hup: ProtoMessageType.MESSAGE_TYPE_HUP,
  beat: ProtoMessageType.MESSAGE_TYPE_BEAT,
  checkQuorum: ProtoMessageType.MESSAGE_TYPE_CHECK_QUORUM,
  unreachable: ProtoMessageType.MESSAGE_TYPE_UNREACHABLE,
  snapStatus: ProtoMessageType.MESSAGE_TYPE_SNAP_STATUS,
  prop: ProtoMessageType.MESSAGE_TYPE_PROP,
  app: ProtoMessageType.MESSAGE_TYPE_APP,
  appResp: ProtoMessageType.MESSAGE_TYPE_APP_RESP,
  vote: ProtoMessageType.MESSAGE_TYPE_VOTE,
  voteResp: ProtoMessageType.MESSAGE_TYPE_VOTE_RESP,
  preVote: ProtoMessageType.MESSAGE_TYPE_PRE_VOTE,
  preVoteResp: ProtoMessageType.MESSAGE_TYPE_PRE_VOTE_RESP,
  heartbeat: ProtoMessageType.MESSAGE_TYPE_HEARTBEAT,
  heartbeatResp: ProtoMessageType.MESSAGE_TYPE_HEARTBEAT_RESP,
  snap: ProtoMessageType.MESSAGE_TYPE_SNAP,
  timeoutNow: ProtoMessageType.MESSAGE_TYPE_TIMEOUT_NOW,
  transferLeader: ProtoMessageType.MESSAGE_TYPE_TRANSFER_LEADER,
  readIndex: ProtoMessageType.MESSAGE_TYPE_READ_INDEX,
  readIndexResp: ProtoMessageType.MESSAGE_TYPE_READ_INDEX_RESP,
};

const ENTRY_TYPE_TO_PROTO: Readonly<Record<EntryType, ProtoEntryType>> = {
  normal: ProtoEntryType.ENTRY_TYPE_NORMAL,
  confChange: ProtoEntryType.ENTRY_TYPE_CONF_CHANGE,
};

function invert<K extends string, V>(record: Readonly<Record<K, V>>): ReadonlyMap<V, K> {
  const inverse = new Map<V, K>();
  for (const key of Object.keys(record) as K[]) inverse.set(record[key], key);
  return inverse;
}

const MESSAGE_TYPE_FROM_PROTO = invert(MESSAGE_TYPE_TO_PROTO);
const ENTRY_TYPE_FROM_PROTO = invert(ENTRY_TYPE_TO_PROTO);

/** Every MessageType the core knows, in wire order; exported so tests can cover each one. */
export const ALL_MESSAGE_TYPES: readonly MessageType[] = Object.keys(MESSAGE_TYPE_TO_PROTO) as MessageType[];

/** Message types that never leave a member; the transport must neither send nor accept them. */
export const LOCAL_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'hup',
  'beat',
  'checkQuorum',
  'unreachable',
  'snapStatus',
  'prop',
]);

export function entryToProto(entry: Entry): ProtoEntry {
  return { term: entry.term, index: entry.index, type: ENTRY_TYPE_TO_PROTO[entry.type], data: entry.data };
}

/**
 * A plain Uint8Array that owns its memory. Decoded bytes are views into the received buffer (a Node Buffer under
 * grpc-js): keeping such a view alive in the log would pin the whole batch it arrived in, and a Buffer is not
 * structurally equal to the Uint8Array that was sent.
 */
function own(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

export function entryFromProto(entry: ProtoEntry): Entry {
  const type = ENTRY_TYPE_FROM_PROTO.get(entry.type);
  if (type === undefined) {
    throw new RaftMessageCodecError(`entry ${entry.index}: unknown entry type ${entry.type}`);
  }
  return { term: entry.term, index: entry.index, type, data: own(entry.data) };
}

function confStateToProto(confState: ConfState): ProtoConfState {
  return { voters: [...confState.voters], learners: [...confState.learners] };
}

function metadataToProto(metadata: SnapshotMetadata): ProtoSnapshotMetadata {
  return { index: metadata.index, term: metadata.term, confState: confStateToProto(metadata.confState) };
}

export function snapshotToProto(snapshot: Snapshot): ProtoSnapshot {
  return { metadata: metadataToProto(snapshot.metadata), data: snapshot.data };
}

export function snapshotFromProto(snapshot: ProtoSnapshot): Snapshot {
  const metadata = snapshot.metadata;
  if (metadata === undefined) throw new RaftMessageCodecError('snapshot without metadata');
  const confState = metadata.confState;
  if (confState === undefined) {
    throw new RaftMessageCodecError(`snapshot at index ${metadata.index} without conf_state`);
  }
  return {
    metadata: {
      index: metadata.index,
      term: metadata.term,
      confState: { voters: [...confState.voters], learners: [...confState.learners] },
    },
    data: own(snapshot.data),
  };
}

export function messageToProto(message: Message): RaftMessage {
  const proto: RaftMessage = {
    type: MESSAGE_TYPE_TO_PROTO[message.type],
    from: message.from,
    to: message.to,
    term: message.term,
    logTerm: message.logTerm,
    index: message.index,
    entries: message.entries.map(entryToProto),
    commit: message.commit,
    reject: message.reject,
    rejectHint: message.rejectHint,
    snapshot: message.snapshot === undefined ? undefined : snapshotToProto(message.snapshot),
  };
  if (message.context !== undefined) proto.context = message.context;
  return proto;
}

export function messageFromProto(proto: RaftMessage): Message {
  const type = MESSAGE_TYPE_FROM_PROTO.get(proto.type);
  if (type === undefined) {
    throw new RaftMessageCodecError(
      `message from '${proto.from}' to '${proto.to}': unknown type ${proto.type}`,
    );
  }
  // Optional fields are left out rather than set to undefined, so a round trip yields a structurally equal value.
  const base = {
    type,
    from: proto.from,
    to: proto.to,
    term: proto.term,
    logTerm: proto.logTerm,
    index: proto.index,
    entries: proto.entries.map(entryFromProto),
    commit: proto.commit,
    reject: proto.reject,
    rejectHint: proto.rejectHint,
  };
  const withSnapshot =
    proto.snapshot === undefined ? base : { ...base, snapshot: snapshotFromProto(proto.snapshot) };
  return proto.context === undefined ? withSnapshot : { ...withSnapshot, context: own(proto.context) };
}

/** Protobuf bytes of one message (e.g. for the log of a capture tool or a test harness). */
export function encodeMessage(message: Message): Uint8Array {
  return RaftMessage.encode(messageToProto(message)).finish();
}

/** Inverse of encodeMessage; throws RaftMessageCodecError on malformed bytes or values the core cannot accept. */
export function decodeMessage(bytes: Uint8Array): Message {
  let proto: RaftMessage;
  try {
    proto = RaftMessage.decode(bytes);
  } catch (cause) {
    throw new RaftMessageCodecError(`malformed RaftMessage (${bytes.length} bytes): ${String(cause)}`, {
      cause,
    });
  }
  return messageFromProto(proto);
}
