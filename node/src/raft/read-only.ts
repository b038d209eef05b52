// Pending ReadIndex requests on the leader (Raft thesis §6.4, etcd-io/raft read_only.go). A read is safe to serve
// once a heartbeat round sent after the request was acknowledged by a quorum: no newer leader can exist then.
import type { Message, NodeId } from './types.js';

interface PendingRead {
  readonly index: number;
  readonly request: Message;
  readonly acks: Map<NodeId, boolean>;
}

/** Request contexts are compared as strings; latin1 maps every byte to one char, so distinct bytes stay distinct. */
export function contextKey(context: Uint8Array | undefined): string {
  return context
    ? Buffer.from(context.buffer, context.byteOffset, context.byteLength).toString('latin1')
    : '';
}

export class ReadOnlyQueue {
  private readonly pending = new Map<string, PendingRead>();
  private readonly queue: string[] = [];

  constructor(private readonly maxPending: number) {}

  size(): number {
    return this.queue.length;
  }

  /** Returns false when the queue is full or the context is already pending (the host retries later). */
  add(index: number, request: Message): boolean {
    const key = contextKey(request.context);
    if (this.pending.has(key) || this.queue.length >= this.maxPending) return false;
    this.pending.set(key, { index, request, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat acknowledgement for a read context; returns the acks so far (undefined if unknown). */
  recvAck(from: NodeId, context: Uint8Array | undefined): ReadonlyMap<NodeId, boolean> | undefined {
    const read = this.pending.get(contextKey(context));
    if (!read) return undefined;
    read.acks.set(from, true);
    return read.acks;
  }

  /** Releases the read for `context` and every read queued before it (their heartbeat round came earlier). */
  advance(context: Uint8Array | undefined): { index: number; request: Message }[] {
    const key = contextKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.splice(0, at + 1).map((k) => {
      const read = this.pending.get(k)!;
      this.pending.delete(k);
      return { index: read.index, request: read.request };
    });
    // A read never gets an index below the one of the read that confirmed it: indexes are monotonic in the queue.
    return released;
  }

  lastPendingContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? undefined : this.pending.get(key)!.request.context;
  }

  clear(): void {
    this.pending.clear();
    this.queue.length = 0;
  }
}
