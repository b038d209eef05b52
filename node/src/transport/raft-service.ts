// The server side of the peer transport: an implementation of the generated RaftServer for grpc-js. It checks every
// batch before any of its messages reaches the core — shard hosted here, addressed to this member, well-formed,
// network types only — and then hands the messages, in order, to `deliver`. A batch for another member id is refused
// with FAILED_PRECONDITION naming both ids: that is how a fenced or wiped member's peers (and the member itself)
// learn that it is not who the sender thinks. Snapshots are reassembled from chunks under a size bound and verified
// (size and SHA-256) before the 'snap' message is delivered with its data.
//
// Register it with a server built from raftServerOptions() (server-options.ts), which sets the message size bound.

import { Metadata, type ServerErrorResponse, status } from '@grpc/grpc-js';
import type {
  RaftBatch,
  RaftServer,
  RaftMessage,
  SnapshotChunk,
  SnapshotHeader,
} from '../../shared/api/generated/raftstore/v1/raft.js';
import { LOCAL_MESSAGE_TYPES, messageFromProto, RaftMessageCodecError } from '../api/raft-message-codec.js';
import type { Message, NodeId } from '../raft/types.js';
import { PeerRejectedError, TransportConfigError } from './errors.js';
import type { TransportLogger } from './options.js';
import { SnapshotAssembler } from './snapshot-assembler.js';

export interface RaftServiceMetrics {
  batchReceived?(shardId: number, from: NodeId, messages: number): void;
  streamRejected?(code: status): void;
  /** A snapshot header was accepted: `bytes` are now reserved until the stream ends. */
  snapshotReceiving?(shardId: number, from: NodeId, bytes: number): void;
  snapshotReceived?(shardId: number, from: NodeId, ok: boolean, bytes: number, chunks: number): void;
}

export interface RaftServiceOptions {
  /** This node's member id in `shardId`, or undefined when no member of that shard lives here. */
  readonly localMember: (shardId: number) => NodeId | undefined;
  /**
   * Hands one checked message to the shard's Raft group (e.g. queue it for RawNode.step in the host loop). Must not
   * block. If it throws, the stream is failed with UNAVAILABLE and the sender reconnects later.
   */
  readonly deliver: (shardId: number, message: Message) => void;
  /** The largest snapshot accepted; larger ones are refused with RESOURCE_EXHAUSTED before any allocation. */
  readonly maxSnapshotBytes: number;
  /** Server-side bound on one SendSnapshot call, whatever deadline the sender chose. Default 30 minutes. */
  readonly snapshotTimeoutMs?: number;
  /**
   * Snapshots received at once (each holds a buffer of its announced size, up to maxSnapshotBytes); more are
   * refused with RESOURCE_EXHAUSTED and the sender's core retries later. Default 2.
   */
  readonly maxConcurrentSnapshots?: number;
  readonly logger?: TransportLogger;
  readonly metrics?: RaftServiceMetrics;
}

const DEFAULT_SNAPSHOT_TIMEOUT_MS = 30 * 60 * 1000;
const DEFAULT_MAX_CONCURRENT_SNAPSHOTS = 2;
const SILENT_LOGGER: TransportLogger = { warn: () => {}, info: () => {}, debug: () => {} };

function rejected(code: status, details: string): PeerRejectedError {
  return new PeerRejectedError(code, details);
}

/** Any failure while handling a call, as the status the peer receives. */
function asRejection(error: unknown): PeerRejectedError {
  if (error instanceof PeerRejectedError) return error;
  if (error instanceof RaftMessageCodecError) return rejected(status.INVALID_ARGUMENT, error.message);
  return rejected(status.INTERNAL, String(error));
}

/** The member this node hosts for `shardId`, if it is `to`; otherwise the FAILED_PRECONDITION to answer with. */
function checkAddressee(options: RaftServiceOptions, shardId: number, from: NodeId, to: NodeId): void {
  const local = options.localMember(shardId);
  if (local === undefined) {
    throw rejected(
      status.FAILED_PRECONDITION,
      `shard ${shardId} has no member on this node; '${from}' addressed member '${to}'`,
    );
  }
  if (local !== to) {
    throw rejected(
      status.FAILED_PRECONDITION,
      `'${from}' addressed member '${to}' of shard ${shardId}, but this node is member '${local}'`,
    );
  }
}

function decodeNetworkMessage(proto: RaftMessage): Message {
  const message = messageFromProto(proto);
  if (LOCAL_MESSAGE_TYPES.has(message.type)) {
    throw rejected(
      status.INVALID_ARGUMENT,
      `'${message.type}' from '${message.from}' is a local-only message type`,
    );
  }
  return message;
}

/** Decodes and checks a whole batch before any of it is delivered, so a bad batch delivers nothing. */
function checkBatch(options: RaftServiceOptions, batch: RaftBatch): Message[] {
  if (batch.from === '') throw rejected(status.INVALID_ARGUMENT, 'batch without a sender id');
  checkAddressee(options, batch.shardId, batch.from, batch.to);
  return batch.messages.map((proto) => {
    const message = decodeNetworkMessage(proto);
    if (message.type === 'snap') {
      throw rejected(
        status.INVALID_ARGUMENT,
        `snap message from '${message.from}' must come through SendSnapshot`,
      );
    }
    if (message.from !== batch.from || message.to !== batch.to) {
      throw rejected(
        status.INVALID_ARGUMENT,
        `batch from '${batch.from}' to '${batch.to}' carries a message from '${message.from}' to '${message.to}'`,
      );
    }
    return message;
  });
}

function checkSnapshotHeader(options: RaftServiceOptions, header: SnapshotHeader): Message {
  if (header.message === undefined)
    throw rejected(status.INVALID_ARGUMENT, 'snapshot header without a message');
  const message = decodeNetworkMessage(header.message);
  checkAddressee(options, header.shardId, message.from, message.to);
  if (message.type !== 'snap' || message.snapshot === undefined) {
    throw rejected(
      status.INVALID_ARGUMENT,
      `snapshot header carries a '${message.type}' message, not a snapshot`,
    );
  }
  if (message.snapshot.data.length !== 0) {
    throw rejected(status.INVALID_ARGUMENT, 'snapshot header carries data; data belongs in the data chunks');
  }
  return message;
}

export function createRaftService(options: RaftServiceOptions): RaftServer {
  if (!Number.isSafeInteger(options.maxSnapshotBytes) || options.maxSnapshotBytes < 0) {
    throw new TransportConfigError(
      `maxSnapshotBytes must be a non-negative integer, got ${options.maxSnapshotBytes}`,
    );
  }
  const snapshotTimeoutMs = options.snapshotTimeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS;
  if (!Number.isSafeInteger(snapshotTimeoutMs) || snapshotTimeoutMs <= 0) {
    throw new TransportConfigError(`snapshotTimeoutMs must be a positive integer, got ${snapshotTimeoutMs}`);
  }
  const maxConcurrentSnapshots = options.maxConcurrentSnapshots ?? DEFAULT_MAX_CONCURRENT_SNAPSHOTS;
  if (!Number.isSafeInteger(maxConcurrentSnapshots) || maxConcurrentSnapshots <= 0) {
    throw new TransportConfigError(
      `maxConcurrentSnapshots must be a positive integer, got ${maxConcurrentSnapshots}`,
    );
  }
  let snapshotsReceiving = 0;
  const logger = options.logger ?? SILENT_LOGGER;
  const metrics = options.metrics ?? {};

  const deliver = (shardId: number, message: Message): void => {
    try {
      options.deliver(shardId, message);
    } catch (error) {
      throw rejected(status.UNAVAILABLE, `shard ${shardId} cannot take messages now: ${String(error)}`);
    }
  };

  const report = (
    error: PeerRejectedError,
    fields: Readonly<Record<string, unknown>>,
    what: string,
  ): void => {
    metrics.streamRejected?.(error.code);
    logger.warn({ ...fields, code: status[error.code], err: error.details }, what);
  };

  return {
    stream(call, callback) {
      let finished = false;
      let batches = 0;
      let messages = 0;
      // Headers at once: the sender learns the stream reached us (its `connected`) before any response.
      call.sendMetadata(new Metadata());
      call.on('data', (batch: RaftBatch) => {
        if (finished) return;
        try {
          const checked = checkBatch(options, batch);
          for (const message of checked) deliver(batch.shardId, message);
          batches += 1;
          messages += checked.length;
          metrics.batchReceived?.(batch.shardId, batch.from, checked.length);
        } catch (error) {
          finished = true;
          const rejection = asRejection(error);
          report(
            rejection,
            { shard: batch.shardId, from: batch.from, to: batch.to },
            'refused a raft stream',
          );
          callback(rejection satisfies ServerErrorResponse);
        }
      });
      call.on('end', () => {
        if (finished) return;
        finished = true;
        callback(null, { batchesReceived: batches, messagesReceived: messages });
      });
      call.on('cancelled', () => {
        finished = true;
      });
      call.on('error', (error: Error) => {
        finished = true;
        logger.debug({ err: error.message }, 'raft stream failed');
      });
    },

    sendSnapshot(call, callback) {
      let finished = false;
      let assembler: SnapshotAssembler | undefined;
      let message: Message | undefined;
      let shardId = 0;
      let holdsSlot = false;
      const fields = (): Readonly<Record<string, unknown>> => ({
        shard: shardId,
        from: message?.from,
        index: message?.snapshot?.metadata.index,
        receivedBytes: assembler?.receivedBytes,
      });
      const end = (): void => {
        finished = true;
        clearTimeout(timer);
        if (holdsSlot) snapshotsReceiving -= 1;
        holdsSlot = false;
        assembler = undefined; // let the buffer go at once, even if grpc-js keeps the call object a while
      };
      const fail = (error: unknown): void => {
        if (finished) return;
        const rejection = asRejection(error);
        const from = message?.from ?? '';
        const bytes = assembler?.receivedBytes ?? 0;
        const chunks = assembler?.chunks ?? 0;
        report(rejection, fields(), 'refused a snapshot');
        metrics.snapshotReceived?.(shardId, from, false, bytes, chunks);
        end();
        callback(rejection);
      };
      const timer = setTimeout(
        () =>
          fail(rejected(status.DEADLINE_EXCEEDED, `snapshot not received within ${snapshotTimeoutMs} ms`)),
        snapshotTimeoutMs,
      );
      call.on('data', (chunk: SnapshotChunk) => {
        if (finished) return;
        try {
          const part = chunk.chunk;
          if (assembler === undefined) {
            if (part?.$case !== 'header')
              throw rejected(status.INVALID_ARGUMENT, 'first snapshot chunk is not a header');
            shardId = part.header.shardId;
            message = checkSnapshotHeader(options, part.header);
            if (snapshotsReceiving >= maxConcurrentSnapshots) {
              throw rejected(
                status.RESOURCE_EXHAUSTED,
                `already receiving ${snapshotsReceiving} snapshots (maxConcurrentSnapshots); retry later`,
              );
            }
            assembler = new SnapshotAssembler(
              part.header.sizeBytes,
              part.header.sha256,
              options.maxSnapshotBytes,
            );
            snapshotsReceiving += 1;
            holdsSlot = true;
            metrics.snapshotReceiving?.(shardId, message.from, part.header.sizeBytes);
          } else if (part?.$case === 'data') {
            assembler.append(part.data);
          } else {
            throw rejected(status.INVALID_ARGUMENT, 'snapshot chunk after the header is not data');
          }
        } catch (error) {
          fail(error);
        }
      });
      call.on('end', () => {
        if (finished) return;
        try {
          if (assembler === undefined || message?.snapshot === undefined) {
            throw rejected(status.INVALID_ARGUMENT, 'snapshot stream ended without a header');
          }
          const data = assembler.finish();
          const chunks = assembler.chunks;
          deliver(shardId, { ...message, snapshot: { ...message.snapshot, data } });
          logger.info({ ...fields(), bytes: data.length, chunks }, 'snapshot received');
          metrics.snapshotReceived?.(shardId, message.from, true, data.length, chunks);
          end();
          callback(null, { receivedBytes: data.length });
        } catch (error) {
          fail(error);
        }
      });
      call.on('cancelled', end);
      call.on('error', (error: Error) => {
        logger.debug({ ...fields(), err: error.message }, 'snapshot stream failed');
        end();
      });
    },
  };
}
