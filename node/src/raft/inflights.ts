// Bounds the append messages in flight to one follower (etcd-io/raft tracker/inflights.go): pipelining without
// flooding a slow follower. Each element is the last index a message carried and the entry bytes it carried.
import { invariant } from './errors.js';

export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;

  constructor(
    private readonly maxMessages: number,
    /** 0 disables the byte bound. */
    private readonly maxBytes: number,
  ) {}

  add(lastIndex: number, bytes: number): void {
    invariant(!this.full(), () => 'inflights: add while full');
    const prev = this.indexes[this.indexes.length - 1];
    invariant(prev === undefined || lastIndex > prev, () => `inflights: ${lastIndex} not after ${prev}`);
    this.indexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every message whose last index is ≤ index: the follower acknowledged them. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.indexes.length && this.indexes[n]! <= index) {
      this.bytes -= this.sizes[n]!;
      n++;
    }
    if (n > 0) {
      this.indexes.splice(0, n);
      this.sizes.splice(0, n);
    }
  }

  /** Frees the oldest message: used when a heartbeat proves the follower is alive but its acks were lost. */
  freeFirstOne(): void {
    const first = this.indexes[0];
    if (first !== undefined) this.freeLE(first);
  }

  full(): boolean {
    return this.indexes.length >= this.maxMessages || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  count(): number {
    return this.indexes.length;
  }

  reset(): void {
    this.indexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}
