import { BinaryWriter } from '@bufbuild/protobuf/wire';
import {
  MessageType as ProtoMessageType,
  RaftMessage,
} from '../../shared/api/generated/raftstore/v1/raft.js';
import {
  ALL_MESSAGE_TYPES,
  decodeMessage,
  encodeMessage,
  messageFromProto,
  messageToProto,
  RaftMessageCodecError,
} from './raft-message-codec.js';
import type { Message, MessageType } from '../raft/types.js';
import { Prng } from '../random/prng.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

/** A message with every field set to a distinct non-default value, so a dropped or swapped field shows. */
function fullMessage(type: MessageType): Message {
  return {
    type,
    from: 'member-a#1',
    to: 'member-b#3',
    term: 7,
    logTerm: 6,
    index: 2 ** 53 - 1, // the largest index the wire format promises to carry exactly
    entries: [
      { term: 6, index: 41, type: 'normal', data: new Uint8Array(0) },
      { term: 7, index: 42, type: 'confChange', data: bytes(1, 2, 3, 0, 255) },
    ],
    commit: 40,
    reject: true,
    rejectHint: 39,
    snapshot: {
      metadata: { index: 30, term: 5, confState: { voters: ['a', 'b', 'c'], learners: ['d'] } },
      data: bytes(9, 8, 7),
    },
    context: bytes(0xca, 0xfe),
  };
}

/** The smallest message: every optional field absent, every scalar at its protobuf default. */
function minimalMessage(type: MessageType): Message {
  return {
    type,
    from: '',
    to: '',
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
  };
}

describe('raft message codec', () => {
  it('covers all 19 core message types with distinct wire values', () => {
    expect(ALL_MESSAGE_TYPES).toHaveLength(19);
    const wire = new Set(ALL_MESSAGE_TYPES.map((t) => messageToProto(minimalMessage(t)).type));
    expect(wire.size).toBe(19);
    expect(wire.has(ProtoMessageType.MESSAGE_TYPE_UNSPECIFIED)).toBe(false);
  });

  it.each(ALL_MESSAGE_TYPES)('round-trips a full %s message through protobuf bytes', (type) => {
    const message = fullMessage(type);
    const decoded = decodeMessage(encodeMessage(message));
    expect(decoded).toStrictEqual(message);
  });

  it.each(ALL_MESSAGE_TYPES)('round-trips a minimal %s message without inventing optional fields', (type) => {
    const decoded = decodeMessage(encodeMessage(minimalMessage(type)));
    expect(decoded).toStrictEqual(minimalMessage(type));
    expect('snapshot' in decoded).toBe(false);
    expect('context' in decoded).toBe(false);
  });

  it('keeps an empty context distinct from an absent one', () => {
    const withEmpty: Message = { ...minimalMessage('heartbeat'), context: new Uint8Array(0) };
    const decoded = decodeMessage(encodeMessage(withEmpty));
    expect(decoded.context).toEqual(new Uint8Array(0));
  });

  it('decodes into plain arrays that do not alias the received buffer', () => {
    const encoded = encodeMessage(fullMessage('app'));
    const decoded = decodeMessage(encoded);
    encoded.fill(0);
    expect(decoded).toStrictEqual(fullMessage('app'));
  });

  it('round-trips through the generated objects without bytes too', () => {
    const message = fullMessage('snap');
    expect(messageFromProto(messageToProto(message))).toStrictEqual(message);
  });

  it('rejects an unspecified or unknown message type', () => {
    const proto = messageToProto(minimalMessage('app'));
    expect(() => messageFromProto({ ...proto, type: ProtoMessageType.MESSAGE_TYPE_UNSPECIFIED })).toThrow(
      RaftMessageCodecError,
    );
    const unknown = new BinaryWriter()
      .uint32((1 << 3) | 0)
      .int32(99)
      .finish();
    expect(() => decodeMessage(unknown)).toThrow(/unknown type 99/);
  });

  it('rejects an entry with an unspecified type', () => {
    const proto = messageToProto(fullMessage('app'));
    const first = proto.entries[0];
    if (first === undefined) throw new Error('test setup: expected an entry');
    proto.entries[0] = { ...first, type: 0 };
    expect(() => messageFromProto(proto)).toThrow(/entry 41: unknown entry type 0/);
  });

  it('rejects a snapshot without metadata or without conf_state', () => {
    const proto = messageToProto(fullMessage('snap'));
    expect(() => messageFromProto({ ...proto, snapshot: { data: bytes(1), metadata: undefined } })).toThrow(
      /snapshot without metadata/,
    );
    expect(() =>
      messageFromProto({
        ...proto,
        snapshot: { data: bytes(1), metadata: { index: 3, term: 1, confState: undefined } },
      }),
    ).toThrow(/snapshot at index 3 without conf_state/);
  });

  it('rejects a 64-bit value that a JavaScript number cannot hold exactly', () => {
    const tooBig = new BinaryWriter()
      .uint32((1 << 3) | 0)
      .int32(ProtoMessageType.MESSAGE_TYPE_APP)
      .uint32((6 << 3) | 0)
      .uint64('18446744073709551615')
      .finish();
    expect(() => decodeMessage(tooBig)).toThrow(RaftMessageCodecError);
  });

  it('rejects truncated bytes', () => {
    const encoded = encodeMessage(fullMessage('app'));
    expect(() => decodeMessage(encoded.subarray(0, encoded.length - 3))).toThrow(/malformed RaftMessage/);
  });

  it('throws only RaftMessageCodecError on random or mutated bytes', () => {
    const prng = new Prng(12345);
    const next = (): number => prng.int(0, 255);
    const valid = encodeMessage(fullMessage('app'));
    for (let i = 0; i < 3000; i++) {
      const input =
        i % 2 === 0
          ? Uint8Array.from({ length: next() % 64 }, next)
          : valid.map((byte, j) => (j === next() % valid.length ? next() : byte));
      try {
        decodeMessage(input);
      } catch (error) {
        expect(error).toBeInstanceOf(RaftMessageCodecError);
      }
    }
  });

  it('decodes what the generated encoder wrote (wire compatibility with other protobuf implementations)', () => {
    const encoded = RaftMessage.encode(messageToProto(fullMessage('vote'))).finish();
    expect(decodeMessage(encoded).type).toBe('vote');
  });
});
