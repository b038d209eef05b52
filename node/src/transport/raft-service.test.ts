import { createHash, randomBytes } from 'node:crypto';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  type RaftBatch,
  type MessageType as ProtoMessageType,
  RaftClient,
  type SendSnapshotResponse,
  type SnapshotChunk,
  type StreamSummary,
} from '../../shared/api/generated/raftstore/v1/raft.js';
import { messageToProto } from '../api/raft-message-codec.js';
import type { Message } from '../raft/types.js';
import { message, Recorder, startServer, type TestServer } from '../../testing/transport/test-harness.js';

interface Result<T> {
  readonly error: ServiceError | null;
  readonly response: T | undefined;
}

function streamBatches(client: RaftClient, batches: readonly RaftBatch[]): Promise<Result<StreamSummary>> {
  return new Promise((resolve) => {
    const call = client.stream({ deadline: Date.now() + 5000 }, (error, response) =>
      resolve({ error, response }),
    );
    for (const batch of batches) call.write(batch);
    call.end();
  });
}

function sendChunks(
  client: RaftClient,
  chunks: readonly SnapshotChunk[],
): Promise<Result<SendSnapshotResponse>> {
  return new Promise((resolve) => {
    const call = client.sendSnapshot({ deadline: Date.now() + 5000 }, (error, response) =>
      resolve({ error, response }),
    );
    for (const chunk of chunks) call.write(chunk);
    call.end();
  });
}

const batch = (messages: readonly Message[], overrides: Partial<RaftBatch> = {}): RaftBatch => ({
  shardId: 1,
  from: 'a',
  to: 'b',
  messages: messages.map(messageToProto),
  ...overrides,
});

function snapMessage(to = 'b'): Message {
  return {
    ...message('snap', 'a', to, 50),
    snapshot: {
      metadata: { index: 50, term: 3, confState: { voters: ['a', 'b'], learners: [] } },
      data: new Uint8Array(0),
    },
  };
}

function header(
  data: Uint8Array,
  overrides: { to?: string; size?: number; sha?: Uint8Array; shardId?: number } = {},
): SnapshotChunk {
  return {
    chunk: {
      $case: 'header',
      header: {
        shardId: overrides.shardId ?? 1,
        message: messageToProto(snapMessage(overrides.to)),
        sizeBytes: overrides.size ?? data.length,
        sha256: overrides.sha ?? createHash('sha256').update(data).digest(),
      },
    },
  };
}

const dataChunk = (data: Uint8Array): SnapshotChunk => ({ chunk: { $case: 'data', data } });

describe('createRaftService', () => {
  let server: TestServer;
  let client: RaftClient;

  beforeEach(async () => {
    server = await startServer({ member: 'b', maxSnapshotBytes: 1 << 20 });
    client = new RaftClient(server.address, credentials.createInsecure());
  });

  afterEach(() => {
    client.close();
    server.stop();
  });

  it('delivers the messages of each batch in order and counts them in the summary', async () => {
    const first = [message('app', 'a', 'b', 1), message('heartbeat', 'a', 'b', 2)];
    const second = [message('vote', 'a', 'b', 3)];
    const result = await streamBatches(client, [batch(first), batch(second)]);
    expect(result.error).toBeNull();
    expect(result.response).toEqual({ batchesReceived: 2, messagesReceived: 3 });
    expect(server.delivered.items).toEqual([...first, ...second].map((m) => ({ shardId: 1, message: m })));
  });

  it('refuses a batch for another member id with FAILED_PRECONDITION naming both ids', async () => {
    const result = await streamBatches(client, [batch([message('app', 'a', 'b-old', 1)], { to: 'b-old' })]);
    expect(result.error?.code).toBe(status.FAILED_PRECONDITION);
    expect(result.error?.details).toContain("'b-old'");
    expect(result.error?.details).toContain("this node is member 'b'");
    expect(server.delivered.items).toEqual([]);
  });

  it('refuses a batch for a shard this node does not host with FAILED_PRECONDITION', async () => {
    const result = await streamBatches(client, [batch([message('app', 'a', 'b', 1)], { shardId: 9 })]);
    expect(result.error?.code).toBe(status.FAILED_PRECONDITION);
    expect(result.error?.details).toContain('shard 9 has no member on this node');
    expect(server.delivered.items).toEqual([]);
  });

  it('refuses local-only types, mismatched ids and inline snapshots, delivering nothing of the bad batch', async () => {
    const good = message('heartbeat', 'a', 'b', 1);
    const cases: [RaftBatch, string][] = [
      [batch([good, message('hup', 'a', 'b', 2)]), 'local-only'],
      [batch([good, message('heartbeat', 'x', 'b', 2)]), "carries a message from 'x'"],
      [batch([good, snapMessage()]), 'must come through SendSnapshot'],
      [batch([good], { from: '' }), 'without a sender id'],
      [
        { ...batch([]), messages: [{ ...messageToProto(good), type: 99 as ProtoMessageType }] },
        'unknown type 99',
      ],
    ];
    for (const [bad, expected] of cases) {
      const result = await streamBatches(client, [bad]);
      expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(result.error?.details).toContain(expected);
    }
    expect(server.delivered.items).toEqual([]);
  });

  it('fails the stream with UNAVAILABLE when the host cannot take the message', async () => {
    const refusing = await startServer({
      member: 'b',
      deliver: () => {
        throw new Error('shard closing');
      },
    });
    const other = new RaftClient(refusing.address, credentials.createInsecure());
    try {
      const result = await streamBatches(other, [batch([message('app', 'a', 'b', 1)])]);
      expect(result.error?.code).toBe(status.UNAVAILABLE);
      expect(result.error?.details).toContain('shard closing');
    } finally {
      other.close();
      refusing.stop();
    }
  });

  describe('SendSnapshot', () => {
    const data = randomBytes(300_000);

    it('reassembles chunks, checks size and SHA-256, and delivers the snap message with its data', async () => {
      const chunks = [header(data)];
      for (let offset = 0; offset < data.length; offset += 65_536) {
        chunks.push(dataChunk(data.subarray(offset, offset + 65_536)));
      }
      const result = await sendChunks(client, chunks);
      expect(result.error).toBeNull();
      expect(result.response).toEqual({ receivedBytes: data.length });
      const delivered = server.delivered.items[0]?.message;
      expect(delivered?.type).toBe('snap');
      expect(delivered?.snapshot?.metadata).toEqual(snapMessage().snapshot?.metadata);
      expect(Buffer.from(delivered?.snapshot?.data ?? []).equals(data)).toBe(true);
    });

    it('refuses a snapshot beyond maxConcurrentSnapshots with RESOURCE_EXHAUSTED, then frees the slot', async () => {
      const receiving = new Recorder<string>();
      const limited = await startServer({
        member: 'b',
        maxConcurrentSnapshots: 1,
        metrics: { snapshotReceiving: (_shard, from) => receiving.push(from) },
      });
      const other = new RaftClient(limited.address, credentials.createInsecure());
      try {
        let finishFirst: (value: Result<SendSnapshotResponse>) => void = () => {};
        const firstDone = new Promise<Result<SendSnapshotResponse>>((resolve) => (finishFirst = resolve));
        const first = other.sendSnapshot({ deadline: Date.now() + 5000 }, (error, response) =>
          finishFirst({ error, response }),
        );
        first.write(header(data));
        await receiving.waitFor((r) => r.length === 1, 3000, 'the first snapshot to be accepted');
        const second = await sendChunks(other, [header(data), dataChunk(data)]);
        expect(second.error?.code).toBe(status.RESOURCE_EXHAUSTED);
        first.write(dataChunk(data));
        first.end();
        expect((await firstDone).error).toBeNull();
        const third = await sendChunks(other, [header(data), dataChunk(data)]);
        expect(third.error).toBeNull();
        expect(limited.delivered.items).toHaveLength(2);
      } finally {
        other.close();
        limited.stop();
      }
    });

    it('fails a snapshot stream that outlives snapshotTimeoutMs with DEADLINE_EXCEEDED', async () => {
      const slow = await startServer({ member: 'b', snapshotTimeoutMs: 100 });
      const other = new RaftClient(slow.address, credentials.createInsecure());
      try {
        const result = await new Promise<Result<SendSnapshotResponse>>((resolve) => {
          const call = other.sendSnapshot({ deadline: Date.now() + 5000 }, (error, response) =>
            resolve({ error, response }),
          );
          call.write(header(data)); // and then nothing: a stalled sender
        });
        expect(result.error?.code).toBe(status.DEADLINE_EXCEEDED);
        expect(result.error?.details).toContain('within 100 ms');
        expect(slow.delivered.items).toEqual([]);
      } finally {
        other.close();
        slow.stop();
      }
    });

    it('refuses a truncated stream', async () => {
      const result = await sendChunks(client, [header(data), dataChunk(data.subarray(0, 1000))]);
      expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(result.error?.details).toContain('truncated: 1000 of 300000');
      expect(server.delivered.items).toEqual([]);
    });

    it('refuses corrupted data with DATA_LOSS', async () => {
      const corrupted = Buffer.from(data);
      corrupted[100_000] = (corrupted[100_000] ?? 0) ^ 0xff;
      const result = await sendChunks(client, [header(data), dataChunk(corrupted)]);
      expect(result.error?.code).toBe(status.DATA_LOSS);
      expect(server.delivered.items).toEqual([]);
    });

    it('refuses more data than announced', async () => {
      const result = await sendChunks(client, [header(data, { size: 10 }), dataChunk(data.subarray(0, 20))]);
      expect(result.error?.code).toBe(status.INVALID_ARGUMENT);
      expect(result.error?.details).toContain('more than the announced 10 bytes');
    });

    it('refuses a snapshot over maxSnapshotBytes with RESOURCE_EXHAUSTED from the header alone', async () => {
      const result = await sendChunks(client, [header(data, { size: 2 << 20 })]);
      expect(result.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    });

    it('refuses a stream without a header, and a header for another member', async () => {
      const noHeader = await sendChunks(client, [dataChunk(data.subarray(0, 10))]);
      expect(noHeader.error?.code).toBe(status.INVALID_ARGUMENT);
      const empty = await sendChunks(client, []);
      expect(empty.error?.code).toBe(status.INVALID_ARGUMENT);
      const wrongMember = await sendChunks(client, [header(data, { to: 'b-old' })]);
      expect(wrongMember.error?.code).toBe(status.FAILED_PRECONDITION);
      expect(wrongMember.error?.details).toContain("'b-old'");
      expect(server.delivered.items).toEqual([]);
    });
  });
});
