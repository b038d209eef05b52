// Reconnect delays: exponential, capped, with jitter drawn from an injected random source so that many members
// reconnecting to a restarted peer spread out, and so tests can replay the exact delays.

import type { BackoffOptions } from './options.js';

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number,
  ) {}

  /** The delay before the next attempt; each call counts one failed attempt. */
  next(): number {
    const exponent = Math.min(this.attempt, 64); // 2^64 already exceeds any maxMs: stop growing the counter
    this.attempt += 1;
    const base = Math.min(this.options.maxMs, this.options.initialMs * this.options.multiplier ** exponent);
    const r = this.random();
    // A random source outside [0, 1) is a bug in the injected function; clamping keeps the bound promise anyway.
    const fraction = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
    return Math.max(1, Math.round(base * (1 - this.options.jitter * fraction)));
  }

  /** A successful connection: the next failure starts again from initialMs. */
  reset(): void {
    this.attempt = 0;
  }
}
