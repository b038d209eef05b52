// The per-peer FIFO of messages waiting for the stream. Bounded twice (count and bytes): when a push goes over
// either bound the OLDEST messages are dropped, because Raft recovers from loss and newer messages (a higher term,
// a later commit index) are worth more than older ones. The caller reports the drops (onUnreachable, metrics).

import type { Message } from '../raft/types.js';

export interface QueuedMessage {
  readonly message: Message;
  /** batchEntrySizeUpperBound(message), computed once at enqueue. */
  readonly bytes: number;
}

export class MessageQueue {
  // A ring would avoid the O(n) shift; an index into an array that is compacted lazily does the same simply.
  private items: QueuedMessage[] = [];
  private head = 0;
  private totalBytes = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** Appends, then drops from the front until both bounds hold; returns how many were dropped. */
  push(item: QueuedMessage): number {
    this.items.push(item);
    this.totalBytes += item.bytes;
    let dropped = 0;
    while (this.length > this.maxMessages || (this.totalBytes > this.maxBytes && this.length > 0)) {
      this.shift();
      dropped += 1;
    }
    return dropped;
  }

  /**
   * Removes and returns the longest prefix whose bytes fit in maxBytes; a first message larger than maxBytes is
   * returned alone (the caller checks it against the gRPC message limit). Empty only when the queue is empty.
   */
  takeBatch(maxBytes: number): QueuedMessage[] {
    const batch: QueuedMessage[] = [];
    let bytes = 0;
    while (this.length > 0) {
      const next = this.items[this.head];
      if (next === undefined) break;
      if (batch.length > 0 && bytes + next.bytes > maxBytes) break;
      this.shift();
      batch.push(next);
      bytes += next.bytes;
    }
    return batch;
  }

  /** Empties the queue; returns how many messages were discarded. */
  clear(): number {
    const discarded = this.length;
    this.items = [];
    this.head = 0;
    this.totalBytes = 0;
    return discarded;
  }

  private shift(): void {
    const item = this.items[this.head];
    if (item === undefined) return;
    this.head += 1;
    this.totalBytes -= item.bytes;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
