// Retry pacing for the work queue, in the shape of controller-runtime's default rate limiter: a per-key exponential
// backoff (a key that keeps failing waits longer and longer) combined with a global token bucket (a burst of
// failures across many keys cannot flood the API server). Pure apart from the injected clock.

/** Milliseconds since an arbitrary origin; monotonic in production (performance.now), settable in tests. */
export interface Clock {
  nowMs(): number;
}

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  /** Bound on the number of keys tracked; a key beyond it is refused (the caller has a leak). */
  maxKeys: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseDelayMs: 5, maxDelayMs: 1_000_000, maxKeys: 100_000 };

/** base·2^failures, capped: 5 ms, 10 ms, 20 ms, ... 1000 s. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.baseDelayMs > 0 && options.maxDelayMs >= options.baseDelayMs && options.maxKeys > 0)) {
      throw new Error(`invalid backoff options ${JSON.stringify(options)}`);
    }
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    if (n === 0 && this.failures.size >= this.options.maxKeys) {
      throw new Error(`backoff tracks ${this.failures.size} keys already (bound ${this.options.maxKeys})`);
    }
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n; Math.min caps it either way.
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** n);
  }

  /** Failures recorded for `key` since the last forget. */
  count(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

export interface TokenBucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: how many retries may go at once. */
  burst: number;
}

export const DEFAULT_BUCKET: TokenBucketOptions = { ratePerSecond: 10, burst: 100 };

/**
 * A token bucket that never refuses: `reserve()` takes a token (possibly one not yet earned) and answers how long
 * the caller must wait before using it, like golang.org/x/time/rate's Reserve().Delay().
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly options: TokenBucketOptions = DEFAULT_BUCKET,
  ) {
    if (!(options.ratePerSecond > 0 && options.burst >= 1)) {
      throw new Error(`invalid token bucket options ${JSON.stringify(options)}`);
    }
    this.tokens = options.burst;
    this.lastMs = clock.nowMs();
  }

  reserve(): number {
    const now = this.clock.nowMs();
    const elapsed = Math.max(0, now - this.lastMs);
    this.lastMs = now;
    this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.ratePerSecond) / 1000);
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    return Math.ceil((-this.tokens * 1000) / this.options.ratePerSecond);
  }
}

/** The delay before retrying a failed key: the larger of its own backoff and the global bucket's. */
export class RateLimiter {
  constructor(
    readonly backoff: ExponentialBackoff,
    readonly bucket: TokenBucket,
  ) {}

  when(key: string): number {
    return Math.max(this.backoff.next(key), this.bucket.reserve());
  }

  forget(key: string): void {
    this.backoff.forget(key);
  }

  failures(key: string): number {
    return this.backoff.count(key);
  }
}
