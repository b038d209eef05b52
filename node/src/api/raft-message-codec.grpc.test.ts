// The generated grpc-js stubs and the codec together over a real (loopback) channel: Raft messages survive a
// client stream, and a snapshot larger than gRPC's 4 MiB message limit crosses in chunks. This is the one place the
// generated service definitions are exercised end to end before the transport is built on them.

import { createHash } from 'node:crypto';
import { credentials, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import {
  RaftClient,
  RaftService,
  type RaftBatch,
  type RaftServer,
  type SendSnapshotResponse,
  type SnapshotChunk,
  type StreamSummary,
} from '../../shared/api/generated/raftstore/v1/raft.js';
import { messageFromProto, messageToProto } from './raft-message-codec.js';
import type { Message } from '../raft/types.js';

const CHUNK_BYTES = 1024 * 1024;
const DEADLINE_MS = 10_000;

const heartbeat = (to: string, commit: number): Message => ({
  type: 'heartbeat',
  from: 'a',
  to,
  term: 3,
  logTerm: 0,
  index: 0,
  entries: [],
  commit,
  reject: false,
  rejectHint: 0,
  context: Uint8Array.of(commit),
});

describe('generated Raft service over grpc-js', () => {
  const received: Message[] = [];
  let snapshotBytes: Uint8Array | undefined;
  let snapshotHeader: SnapshotChunk['chunk'];
  let server: Server;
  let client: RaftClient;

  beforeAll(async () => {
    const impl: RaftServer = {
      stream: (call, callback) => {
        let batches = 0;
        call.on('data', (batch: RaftBatch) => {
          batches++;
          received.push(...batch.messages.map(messageFromProto));
        });
        call.on('end', () => callback(null, { batchesReceived: batches, messagesReceived: received.length }));
      },
      sendSnapshot: (call, callback) => {
        const parts: Uint8Array[] = [];
        call.on('data', (chunk: SnapshotChunk) => {
          if (chunk.chunk?.$case === 'header') snapshotHeader = chunk.chunk;
          else if (chunk.chunk?.$case === 'data') parts.push(chunk.chunk.data);
        });
        call.on('end', () => {
          snapshotBytes = Buffer.concat(parts);
          callback(null, { receivedBytes: snapshotBytes.length });
        });
      },
    };
    server = new Server();
    server.addService(RaftService, impl);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    client = new RaftClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('carries batches of Raft messages losslessly on a client stream', async () => {
    const sent = [heartbeat('b', 1), heartbeat('b', 2), heartbeat('b', 3)];
    const summary = await new Promise<StreamSummary>((resolve, reject) => {
      const stream = client.stream(
        { deadline: Date.now() + DEADLINE_MS },
        (error: ServiceError | null, reply) => (error ? reject(error) : resolve(reply)),
      );
      stream.write({ shardId: 0, from: 'a', to: 'b', messages: sent.slice(0, 2).map(messageToProto) });
      stream.write({ shardId: 0, from: 'a', to: 'b', messages: sent.slice(2).map(messageToProto) });
      stream.end();
    });
    expect(summary).toEqual({ batchesReceived: 2, messagesReceived: 3 });
    expect(received).toStrictEqual(sent);
  });

  it('moves a snapshot larger than one gRPC message in 1 MiB chunks', async () => {
    const data = new Uint8Array(5 * CHUNK_BYTES + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    const snap: Message = {
      ...heartbeat('b', 0),
      type: 'snap',
      snapshot: { metadata: { index: 90, term: 3, confState: { voters: ['a', 'b'], learners: [] } }, data },
    };
    const header = messageToProto({
      ...snap,
      snapshot: { metadata: snap.snapshot!.metadata, data: new Uint8Array() },
    });
    const reply = await new Promise<SendSnapshotResponse>((resolve, reject) => {
      const stream = client.sendSnapshot({ deadline: Date.now() + DEADLINE_MS }, (error, response) =>
        error ? reject(error) : resolve(response),
      );
      const sha256 = createHash('sha256').update(data).digest();
      stream.write({
        chunk: { $case: 'header', header: { shardId: 0, message: header, sizeBytes: data.length, sha256 } },
      });
      for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
        stream.write({ chunk: { $case: 'data', data: data.subarray(offset, offset + CHUNK_BYTES) } });
      }
      stream.end();
    });
    expect(reply.receivedBytes).toBe(data.length);
    // Compared by digest: Jest's element-by-element equality on 5 MiB takes minutes.
    expect(snapshotBytes && createHash('sha256').update(snapshotBytes).digest('hex')).toBe(
      createHash('sha256').update(data).digest('hex'),
    );
    expect(snapshotHeader?.$case === 'header' && snapshotHeader.header.sizeBytes).toBe(data.length);
    const restored =
      snapshotHeader?.$case === 'header' && snapshotHeader.header.message
        ? messageFromProto(snapshotHeader.header.message)
        : undefined;
    expect(restored?.snapshot?.metadata).toEqual(snap.snapshot?.metadata);
  });
});
