import { RaftBatch, RaftMessage } from '../../shared/api/generated/raftstore/v1/raft.js';
import { ALL_MESSAGE_TYPES, messageToProto } from '../api/raft-message-codec.js';
import type { Message } from '../raft/types.js';
import { seededRandom } from '../random/prng.js';
import { batchEntrySizeUpperBound, messageSizeUpperBound } from './message-size.js';

function randomMessage(random: () => number): Message {
  const int = (max: number): number => Math.floor(random() * max);
  const bytes = (max: number): Uint8Array => Uint8Array.from({ length: int(max) }, () => int(256));
  const id = (): string => 'mémbre-' + 'x'.repeat(int(40)); // non-ASCII: byte length != string length
  const type = ALL_MESSAGE_TYPES[int(ALL_MESSAGE_TYPES.length)] ?? 'app';
  const big = (): number => (random() < 0.5 ? int(100) : Number.MAX_SAFE_INTEGER - int(100));
  return {
    type,
    from: id(),
    to: id(),
    term: big(),
    logTerm: big(),
    index: big(),
    entries: Array.from({ length: int(5) }, () => ({
      term: big(),
      index: big(),
      type: random() < 0.5 ? 'normal' : 'confChange',
      data: bytes(300),
    })),
    commit: big(),
    reject: random() < 0.5,
    rejectHint: big(),
    ...(random() < 0.3
      ? {
          snapshot: {
            metadata: { index: big(), term: big(), confState: { voters: [id(), id()], learners: [id()] } },
            data: bytes(1000),
          },
        }
      : {}),
    ...(random() < 0.5 ? { context: bytes(20) } : {}),
  };
}

describe('messageSizeUpperBound', () => {
  it('is never below the real encoded size and stays close to it (1000 random messages)', () => {
    const seed = 20261122;
    const random = seededRandom(seed);
    for (let i = 0; i < 1000; i += 1) {
      const message = randomMessage(random);
      const actual = RaftMessage.encode(messageToProto(message)).finish().length;
      const bound = messageSizeUpperBound(message);
      if (bound < actual || bound > actual + 200 + 40 * message.entries.length) {
        throw new Error(`seed ${seed} message ${i}: bound ${bound}, actual ${actual}`);
      }
    }
  });

  it('bounds a whole batch when summed with the batch framing', () => {
    const random = seededRandom(7);
    const messages = Array.from({ length: 50 }, () => randomMessage(random));
    const actual = RaftBatch.encode({
      shardId: 0xffff_ffff,
      from: 'a',
      to: 'b',
      messages: messages.map(messageToProto),
    }).finish().length;
    const bound = messages.reduce((sum, m) => sum + batchEntrySizeUpperBound(m), 0);
    expect(bound).toBeGreaterThanOrEqual(actual - 20); // 20: the batch's own shard id and ids, counted apart
  });
});
