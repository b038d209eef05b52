// Sends one peer's 'snap' messages through SendSnapshot, one at a time, apart from the message stream so a large
// snapshot never holds up heartbeats. The data goes in snapshotChunkBytes chunks after a header carrying the message
// (without data), the size and the SHA-256; writes respect the call's backpressure, and the call's deadline grows
// with the size. The outcome goes to onSnapshotStatus (RawNode.reportSnapshot), which is what lets the leader retry.

import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { SendSnapshotResponse, SnapshotChunk } from '../../shared/api/generated/raftstore/v1/raft.js';
import { messageToProto } from '../api/raft-message-codec.js';
import type { Message, NodeId } from '../raft/types.js';
import { ClientCall } from './client-call.js';
import type { ResolvedTransportOptions, TransportLogger, TransportMetrics } from './options.js';
import type { PeerChannel } from './peer-channel.js';
import { Wakeup } from './wakeup.js';

export interface SnapshotSenderContext {
  readonly peer: NodeId;
  readonly options: ResolvedTransportOptions;
  readonly channel: PeerChannel;
  readonly logger: TransportLogger;
  readonly metrics: TransportMetrics;
  /** Already guarded against a throwing host callback. */
  readonly onSnapshotStatus: (peer: NodeId, ok: boolean) => void;
}

/** The SendSnapshot deadline for `sizeBytes` of data, in milliseconds from now. */
export function snapshotTimeoutMs(options: ResolvedTransportOptions, sizeBytes: number): number {
  const { snapshotBaseMs, snapshotMinBytesPerSecond } = options.timeouts;
  return snapshotBaseMs + Math.ceil((sizeBytes * 1000) / snapshotMinBytesPerSecond);
}

export class SnapshotSender {
  private readonly wake = new Wakeup();
  private pending: Message | undefined;
  private call: ClientCall<SnapshotChunk, SendSnapshotResponse> | undefined;
  private sending = false;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(private readonly ctx: SnapshotSenderContext) {
    this.done = this.run().catch((error: unknown) => {
      this.ctx.logger.warn({ peer: ctx.peer, err: String(error) }, 'snapshot sender failed');
    });
  }

  get inFlight(): boolean {
    return this.sending;
  }

  /** Queues a 'snap' message; one still waiting (not yet sending) is superseded and reported failed. */
  enqueue(message: Message): void {
    if (this.stopped) {
      this.ctx.metrics.messagesDropped?.(this.ctx.peer, 1, 'removed');
      return;
    }
    if (this.pending !== undefined) {
      this.ctx.metrics.messagesDropped?.(this.ctx.peer, 1, 'superseded');
      // Reported after send() returns: the host is inside its Ready handling and must not be re-entered.
      queueMicrotask(() => this.ctx.onSnapshotStatus(this.ctx.peer, false));
    }
    this.pending = message;
    this.wake.notify();
  }

  /** Cancels the running send and drops a waiting one, without reporting either (the transport is going away). */
  stop(): void {
    this.stopped = true;
    this.pending = undefined;
    this.call?.cancel();
    this.wake.notify();
  }

  private async run(): Promise<void> {
    while (true) {
      await this.wake.until(() => this.pending !== undefined || this.stopped);
      const message = this.pending;
      if (this.stopped || message === undefined) return;
      this.pending = undefined;
      this.sending = true;
      const ok = await this.sendOne(message);
      this.sending = false;
      this.call = undefined;
      if (this.stopped) return;
      this.ctx.onSnapshotStatus(this.ctx.peer, ok);
    }
  }

  private async sendOne(message: Message): Promise<boolean> {
    const snapshot = message.snapshot;
    const peer = this.ctx.peer;
    if (snapshot === undefined) return false; // send() refuses these; kept total for the type checker
    this.ctx.metrics.snapshotStarted?.(peer, snapshot.data.length);
    const client = this.ctx.channel.connect();
    if (client === undefined) {
      this.ctx.logger.warn({ peer }, 'cannot send snapshot: no address known for peer');
      this.ctx.metrics.snapshotSent?.(peer, false, 0, 0);
      return false;
    }
    const data = snapshot.data;
    const sha256 = createHash('sha256').update(data).digest();
    const timeoutMs = snapshotTimeoutMs(this.ctx.options, data.length);
    const call = new ClientCall<SnapshotChunk, SendSnapshotResponse>(
      (callback) => client.sendSnapshot({ deadline: Date.now() + timeoutMs }, callback),
      this.wake,
      () => {},
    );
    this.call = call;
    call.write({
      chunk: {
        $case: 'header',
        header: {
          shardId: this.ctx.options.shardId,
          message: messageToProto({ ...message, snapshot: { ...snapshot, data: new Uint8Array(0) } }),
          sizeBytes: data.length,
          sha256,
        },
      },
    });
    const chunkBytes = this.ctx.options.limits.snapshotChunkBytes;
    let offset = 0;
    let chunks = 0;
    while (offset < data.length) {
      await this.wake.until(() => call.writable || call.outcome !== undefined || this.stopped);
      if (call.outcome !== undefined || this.stopped) break;
      const end = Math.min(data.length, offset + chunkBytes);
      call.write({ chunk: { $case: 'data', data: data.subarray(offset, end) } }); // a view: no copy
      offset = end;
      chunks += 1;
    }
    call.end();
    await this.wake.until(() => call.outcome !== undefined || this.stopped);
    if (this.stopped) {
      call.cancel();
      return false;
    }
    const outcome = call.outcome;
    const ok = outcome?.ok === true && outcome.response.receivedBytes === data.length;
    const fields = {
      peer,
      index: snapshot.metadata.index,
      term: snapshot.metadata.term,
      bytes: data.length,
      chunks,
      timeoutMs,
    };
    if (ok) {
      this.ctx.logger.info(fields, 'snapshot sent');
    } else {
      const err =
        outcome?.ok === false ? outcome.error : `peer acknowledged ${outcome?.response.receivedBytes} bytes`;
      this.ctx.logger.warn({ ...fields, err }, 'snapshot send failed');
      // Refused as another member: the channel reaches the wrong node; the next call resolves the peer afresh.
      if (outcome?.ok === false && outcome.code === status.FAILED_PRECONDITION) {
        this.ctx.channel.invalidate('the peer is not the member addressed');
      }
    }
    this.ctx.metrics.snapshotSent?.(peer, ok, data.length, chunks);
    return ok;
  }
}
