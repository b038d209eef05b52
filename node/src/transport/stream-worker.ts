// The worker that drains one peer's queue onto one long-lived `Stream` call, in batches. It is a loop over a single
// Wakeup (see wakeup.ts): every await re-checks the mode, so stop() ends it promptly from any state.
//
// Life of a stream: open when there is something to send (re-resolving the address) → write batches while the stream accepts them (write() false →
// wait for 'drain') → after streamMaxAgeMs, end it gracefully and open the next (the call's deadline is that age
// plus endTimeoutMs, so no deadline ever cuts a healthy stream). If the call fails, whatever it carried may be lost:
// report the peer unreachable, keep the queue (bounded), back off and reconnect. A refusal as another member
// (FAILED_PRECONDITION), a stream the peer has not answered within answerTimeoutMs, or STALE_AFTER_FAILURES broken
// streams in a row, marks the channel stale so the reconnect resolves the peer's name afresh (see peer-channel.ts).

import { status } from '@grpc/grpc-js';
import type { RaftBatch, StreamSummary } from '../../shared/api/generated/raftstore/v1/raft.js';
import { messageToProto } from '../api/raft-message-codec.js';
import type { Message, NodeId } from '../raft/types.js';
import { Backoff } from './backoff.js';
import { ClientCall } from './client-call.js';
import { MessageQueue } from './message-queue.js';
import {
  FRAMING_BYTES_MAX,
  type ResolvedTransportOptions,
  type TransportLogger,
  type TransportMetrics,
} from './options.js';
import type { PeerChannel } from './peer-channel.js';
import { Wakeup } from './wakeup.js';

export interface StreamWorkerContext {
  readonly peer: NodeId;
  readonly options: ResolvedTransportOptions;
  readonly channel: PeerChannel;
  readonly random: () => number;
  readonly now: () => number;
  readonly logger: TransportLogger;
  readonly metrics: TransportMetrics;
  /** Already guarded against a throwing host callback. */
  readonly onUnreachable: (peer: NodeId) => void;
}

type Mode = 'running' | 'draining' | 'stopped';

/** Broken streams in a row after which the channel is recreated whatever the failure was. */
export const STALE_AFTER_FAILURES = 3;
type PumpResult = 'rotate' | 'drained' | 'broken' | 'stopped';

export class StreamWorker {
  private readonly queue: MessageQueue;
  private readonly wake = new Wakeup();
  private readonly backoff: Backoff;
  private mode: Mode = 'running';
  private call: ClientCall<RaftBatch, StreamSummary> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerFired = false;
  /** The current call was not answered within answerTimeoutMs (its own timer: the other one paces the pump). */
  private unanswered = false;
  private failuresInRow = 0;
  lastSendError: string | undefined;
  lastContactMs: number | undefined;
  readonly done: Promise<void>;

  constructor(private readonly ctx: StreamWorkerContext) {
    this.queue = new MessageQueue(ctx.options.limits.maxQueuedMessages, ctx.options.limits.maxQueuedBytes);
    this.backoff = new Backoff(ctx.options.backoff, ctx.random);
    this.done = this.run().catch((error: unknown) => {
      // A bug in this loop must not become an unhandled rejection; the peer simply stops receiving.
      this.lastSendError = `stream worker failed: ${String(error)}`;
      this.ctx.logger.warn({ peer: ctx.peer, err: String(error) }, 'peer stream worker failed');
    });
  }

  get connected(): boolean {
    return this.call?.connected === true;
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  get queuedBytes(): number {
    return this.queue.bytes;
  }

  /** Queues a message; returns how many older messages the bounds pushed out (the caller reports them). */
  enqueue(message: Message, bytes: number): number {
    if (this.mode !== 'running') {
      this.ctx.metrics.messagesDropped?.(this.ctx.peer, 1, 'removed');
      return 0;
    }
    const dropped = this.queue.push({ message, bytes });
    if (dropped > 0) this.ctx.metrics.messagesDropped?.(this.ctx.peer, dropped, 'queueFull');
    this.wake.notify();
    return dropped;
  }

  /** Flush what is queued if the peer is reachable, end the stream gracefully, then stop. */
  drain(): void {
    if (this.mode === 'running') this.mode = 'draining';
    this.wake.notify();
  }

  /** Stop now: cancel the call and drop the queue. */
  stop(): void {
    this.mode = 'stopped';
    this.call?.cancel();
    this.wake.notify();
  }

  private async run(): Promise<void> {
    while (this.mode !== 'stopped') {
      // Streams open lazily: an idle peer costs no call, and a down idle peer is not reported over and over.
      await this.wake.until(() => this.queue.length > 0 || this.mode !== 'running');
      if (this.isStopped() || this.queue.length === 0) break;
      const client = this.ctx.channel.connect();
      if (client === undefined) {
        this.lastSendError = 'no address known for peer';
        if (this.mode === 'draining') break;
        if (this.queue.length > 0) this.ctx.onUnreachable(this.ctx.peer);
        if (!(await this.backOff())) break;
        continue;
      }
      const deadline =
        Date.now() + this.ctx.options.timeouts.streamMaxAgeMs + this.ctx.options.timeouts.endTimeoutMs;
      const call = new ClientCall<RaftBatch, StreamSummary>(
        (callback) => client.stream({ deadline }, callback),
        this.wake,
        () => {
          this.lastContactMs = this.ctx.now();
        },
        () => this.ctx.metrics.connectionChanged?.(this.ctx.peer, true),
      );
      this.call = call;
      const openedAt = Date.now();
      this.unanswered = false;
      const answerTimer = setTimeout(() => {
        if (call.wasAnswered) return;
        this.unanswered = true;
        this.wake.notify();
      }, this.ctx.options.timeouts.answerTimeoutMs);
      const ending = await this.runCall(call);
      clearTimeout(answerTimer);
      if (call.wasAnswered) this.ctx.metrics.connectionChanged?.(this.ctx.peer, false);
      if (ending === 'stopped') break;
      if (ending === 'rotated') continue;
      if (ending === 'drained') break;
      // Broken (or a graceful end that failed): what this call carried may be lost.
      call.cancel();
      this.lastSendError = this.unanswered
        ? `the peer did not answer the stream within ${this.ctx.options.timeouts.answerTimeoutMs} ms`
        : call.outcome?.ok === false
          ? call.outcome.error
          : 'stream did not end within endTimeoutMs';
      this.ctx.logger.warn(
        {
          peer: this.ctx.peer,
          address: this.ctx.channel.currentAddress,
          err: this.lastSendError,
          written: call.written,
        },
        'peer stream broken; reconnecting with backoff',
      );
      this.ctx.metrics.streamReconnect?.(this.ctx.peer);
      if (call.written > 0 || this.queue.length > 0) this.ctx.onUnreachable(this.ctx.peer);
      // A stream that stayed up longer than the longest backoff was healthy: start the next wait from the bottom.
      if (Date.now() - openedAt > this.ctx.options.backoff.maxMs) {
        this.backoff.reset();
        this.failuresInRow = 0;
      }
      this.failuresInRow += 1;
      if (call.outcome?.ok === false && call.outcome.code === status.FAILED_PRECONDITION) {
        this.ctx.channel.invalidate('the peer is not the member addressed');
      } else if (this.unanswered) {
        this.ctx.channel.invalidate('the peer did not answer: its address may be stale');
      } else if (this.failuresInRow >= STALE_AFTER_FAILURES) {
        this.ctx.channel.invalidate(`${this.failuresInRow} broken streams in a row`);
      }
      if (this.mode === 'draining') break; // closing: do not wait to reconnect to a broken peer
      if (!(await this.backOff())) break;
    }
    this.disarm();
    this.call?.cancel();
    const discarded = this.queue.clear();
    if (discarded > 0) this.ctx.metrics.messagesDropped?.(this.ctx.peer, discarded, 'removed');
  }

  /** Pumps the call, then ends it gracefully when it is time to rotate it or the queue is flushed for close(). */
  private async runCall(
    call: ClientCall<RaftBatch, StreamSummary>,
  ): Promise<'rotated' | 'drained' | 'broken' | 'stopped'> {
    const result = await this.pump(call);
    if (result === 'stopped' || result === 'broken') return result;
    if (await this.finish(call)) {
      this.backoff.reset();
      this.failuresInRow = 0;
      return result === 'rotate' ? 'rotated' : 'drained';
    }
    return this.isStopped() ? 'stopped' : 'broken';
  }

  // A method rather than an inline comparison: the mode changes across awaits, which the type checker cannot see.
  private isStopped(): boolean {
    return this.mode === 'stopped';
  }

  private async pump(call: ClientCall<RaftBatch, StreamSummary>): Promise<PumpResult> {
    this.arm(this.ctx.options.timeouts.streamMaxAgeMs);
    const { maxBatchBytes, maxMessageBytes } = this.ctx.options.limits;
    while (true) {
      if (this.mode === 'stopped') return 'stopped';
      if (call.outcome !== undefined) return 'broken'; // even an OK status: the peer ended our stream
      if (this.unanswered) return 'broken';
      if (this.timerFired) return 'rotate';
      if (!call.writable) {
        await this.wake.wait();
        continue;
      }
      const batch = this.queue.takeBatch(maxBatchBytes);
      if (batch.length === 0) {
        if (this.mode === 'draining') return 'drained';
        await this.wake.wait();
        continue;
      }
      const bytes = batch.reduce((sum, item) => sum + item.bytes, 0);
      if (bytes + FRAMING_BYTES_MAX > maxMessageBytes) {
        // Only a lone message can get here (takeBatch): the peer would reject it and the stream with it.
        this.ctx.logger.warn(
          { peer: this.ctx.peer, bytes, maxMessageBytes, type: batch[0]?.message.type },
          'dropping a Raft message larger than maxMessageBytes (lower the Raft maxSizePerMsg)',
        );
        this.ctx.metrics.messagesDropped?.(this.ctx.peer, 1, 'tooLarge');
        this.ctx.onUnreachable(this.ctx.peer);
        continue;
      }
      call.write({
        shardId: this.ctx.options.shardId,
        from: this.ctx.options.selfId,
        to: this.ctx.peer,
        messages: batch.map((item) => messageToProto(item.message)),
      });
      this.ctx.metrics.batchSent?.(this.ctx.peer, batch.length, bytes);
    }
  }

  /** Ends the call and waits (bounded) for the peer's summary; true when it acknowledged the whole stream. */
  private async finish(call: ClientCall<RaftBatch, StreamSummary>): Promise<boolean> {
    call.end();
    this.arm(this.ctx.options.timeouts.endTimeoutMs);
    await this.wake.until(
      () => call.outcome !== undefined || this.timerFired || this.unanswered || this.mode === 'stopped',
    );
    this.disarm();
    return call.outcome?.ok === true;
  }

  /** Waits one backoff delay; false when the worker must stop instead of reconnecting. */
  private async backOff(): Promise<boolean> {
    this.arm(this.backoff.next());
    await this.wake.until(() => this.timerFired || this.mode !== 'running');
    this.disarm();
    return this.mode === 'running';
  }

  private arm(ms: number): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerFired = true;
      this.wake.notify();
    }, ms);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerFired = false;
  }
}
