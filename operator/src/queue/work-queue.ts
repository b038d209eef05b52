// A keyed, de-duplicating work queue (client-go's workqueue / controller-runtime's controller contract):
// - a key is queued at most once; adding it again while it waits is a no-op;
// - a key is never handed to two workers at once; adding it while a worker holds it marks it dirty, and it is
//   queued again when that worker calls done();
// - delayed adds (requeue after d) keep the earliest deadline; rate-limited adds take the delay from the limiter
//   (per-key exponential backoff and a global token bucket); forget() resets a key's backoff after a success.
// The clock and the timers are injected so the tests drive time by hand.
import type { Clock, RateLimiter } from './rate-limit.js';

export type TimerHandle = unknown;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export const monotonicClock: Clock = { nowMs: () => performance.now() };

export interface WorkQueueOptions {
  /** Bound on distinct keys known to the queue (waiting, delayed or in progress). */
  maxKeys: number;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly readySet = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  /** key → when it becomes ready (clock ms). */
  private readonly delayed = new Map<string, number>();
  private timer: { handle: TimerHandle; atMs: number } | undefined;
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(
    private readonly clock: Clock,
    private readonly timers: Timers,
    private readonly limiter: RateLimiter,
    private readonly options: WorkQueueOptions = { maxKeys: 100_000 },
  ) {}

  /** Queue `key` now. False when refused (shutting down, or the key bound is reached). */
  add(key: string): boolean {
    if (this.shuttingDown) return false;
    // This add supersedes a pending delayed one: the reconcile it triggers sets its own requeue.
    this.delayed.delete(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return true;
    }
    if (this.readySet.has(key)) return true;
    if (!this.hasRoom(key)) return false;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.processing.add(key);
      waiter(key);
      return true;
    }
    this.ready.push(key);
    this.readySet.add(key);
    return true;
  }

  /** Queue `key` once `delayMs` has passed (the earliest of several such requests wins). */
  addAfter(key: string, delayMs: number): boolean {
    if (this.shuttingDown) return false;
    if (!(delayMs > 0)) return this.add(key);
    if (this.readySet.has(key)) return true;
    const at = this.clock.nowMs() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing <= at) return true;
    if (existing === undefined && !this.hasRoom(key)) return false;
    this.delayed.set(key, at);
    this.arm();
    return true;
  }

  /** Queue `key` after its rate-limited delay (a failure: backoff grows until forget). */
  addRateLimited(key: string): boolean {
    return this.addAfter(key, this.limiter.when(key));
  }

  /** The key succeeded: its backoff starts over. */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  failures(key: string): number {
    return this.limiter.failures(key);
  }

  /** The next key to work on; undefined once the queue shuts down. The caller must call done(key). */
  get(): Promise<string | undefined> {
    const key = this.ready.shift();
    if (key !== undefined) {
      this.readySet.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    if (!this.processing.delete(key)) throw new Error(`done(${key}): the key was not being processed`);
    if (this.dirty.delete(key)) this.add(key);
  }

  /** Waiting keys (the queue-depth metric). */
  len(): number {
    return this.ready.length;
  }

  delayedLen(): number {
    return this.delayed.size;
  }

  inProgress(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** No new keys are handed out; blocked get() calls return undefined. Keys in progress may still call done(). */
  shutDown(): void {
    this.shuttingDown = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer.handle);
    this.timer = undefined;
    this.delayed.clear();
    this.ready.length = 0;
    this.readySet.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private hasRoom(key: string): boolean {
    const known =
      this.readySet.size + this.delayed.size + this.processing.size - (this.delayed.has(key) ? 1 : 0);
    return known < this.options.maxKeys;
  }

  /** One timer, for the earliest delayed key. */
  private arm(): void {
    let earliest = Infinity;
    for (const at of this.delayed.values()) earliest = Math.min(earliest, at);
    if (this.timer !== undefined && this.timer.atMs === earliest) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer.handle);
    this.timer = undefined;
    if (earliest === Infinity) return;
    const delay = Math.max(0, earliest - this.clock.nowMs());
    this.timer = { handle: this.timers.setTimeout(() => this.fire(), delay), atMs: earliest };
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.nowMs();
    const due = [...this.delayed].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [key] of due) {
      this.delayed.delete(key);
      this.add(key);
    }
    this.arm();
  }
}
