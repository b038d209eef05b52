// Linearizable reads waiting on ReadIndex (Raft thesis §6.4). Reads that arrive together share one request
// context (one heartbeat round); once the core answers with a read index, each read waits until the local state
// machine has applied up to it. Pure bookkeeping: the replica drives it.
import type { Waiter } from './pending-proposals.js';

/** Contexts of one process start in a random place of a 2^52 space, so no two starts share one. */
const CONTEXT_SPACE = 2 ** 52;

export class ReadWaiters {
  private nextContext: number;
  /**
   * The leader keys pending reads by context alone, and every member sends it contexts: a prefix unique to this
   * member (its Raft id) keeps two members' reads from colliding and being dropped.
   */
  private readonly prefix: Uint8Array;

  /**
   * `random` draws where this process's contexts start. A restarted member keeps its Raft id (the id belongs to the
   * data directory, not the process), and the leader may still answer a read the previous process asked for: with
   * contexts counted from 1 on every start, that answer — a read index from before the restart — matched a new
   * read, which was then served below writes acknowledged in between (a stale read the simulation found).
   */
  constructor(memberId: string, random: () => number) {
    this.prefix = new TextEncoder().encode(`${memberId}/`);
    this.nextContext = 1 + Math.floor(random() * CONTEXT_SPACE);
  }

  /** Reads handed to the core, waiting for their read index. */
  private readonly awaitingIndex = new Map<string, Waiter<void>[]>();
  /** Reads with a known read index, waiting for apply; kept sorted by index. */
  private awaitingApply: { index: number; waiters: Waiter<void>[] }[] = [];

  get size(): number {
    let n = 0;
    for (const ws of this.awaitingIndex.values()) n += ws.length;
    for (const a of this.awaitingApply) n += a.waiters.length;
    return n;
  }

  /** Groups reads under a fresh context; returns the context to pass to the core. */
  register(waiters: Waiter<void>[]): Uint8Array {
    const context = new Uint8Array(this.prefix.byteLength + 8);
    context.set(this.prefix);
    new DataView(context.buffer).setBigUint64(this.prefix.byteLength, BigInt(this.nextContext++));
    this.awaitingIndex.set(Buffer.from(context).toString('hex'), waiters);
    return context;
  }

  /** The core produced a read index for `context`; reads already satisfied by `applied` resolve at once. */
  onReadState(context: Uint8Array, index: number, applied: number): void {
    const key = Buffer.from(context).toString('hex');
    const waiters = this.awaitingIndex.get(key);
    if (!waiters) return; // timed out and forgotten, or a context of an earlier incarnation
    this.awaitingIndex.delete(key);
    if (index <= applied) {
      for (const w of waiters) w.resolve();
      return;
    }
    this.awaitingApply.push({ index, waiters });
    this.awaitingApply.sort((a, b) => a.index - b.index);
  }

  onApplied(applied: number): void {
    let n = 0;
    while (n < this.awaitingApply.length && this.awaitingApply[n]!.index <= applied) {
      for (const w of this.awaitingApply[n]!.waiters) w.resolve();
      n++;
    }
    if (n > 0) this.awaitingApply = this.awaitingApply.slice(n);
  }

  /** Leadership changed: contexts sent to the old leader will never be answered. */
  rejectAwaitingIndex(error: Error): void {
    for (const ws of this.awaitingIndex.values()) for (const w of ws) w.reject(error);
    this.awaitingIndex.clear();
  }

  rejectAll(error: Error): void {
    this.rejectAwaitingIndex(error);
    for (const a of this.awaitingApply) for (const w of a.waiters) w.reject(error);
    this.awaitingApply = [];
  }
}
