import { ExponentialBackoff, RateLimiter, TokenBucket, type Clock } from './rate-limit.js';
import { WorkQueue, type Timers } from './work-queue.js';

/** A hand-driven clock and timer wheel. */
class FakeTime implements Clock, Timers {
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();
  nowMs(): number {
    return this.now;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.pending].sort((a, b) => a[1].at - b[1].at)[0];
      if (next === undefined || next[1].at > end) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
  timerCount(): number {
    return this.pending.size;
  }
}

function setup(maxKeys = 100): { q: WorkQueue; t: FakeTime } {
  const t = new FakeTime();
  const limiter = new RateLimiter(
    new ExponentialBackoff({ baseDelayMs: 5, maxDelayMs: 1_000_000, maxKeys: 100 }),
    new TokenBucket(t, { ratePerSecond: 10, burst: 100 }),
  );
  return { q: new WorkQueue(t, t, limiter, { maxKeys }), t };
}

/** get() that must not block. */
async function take(q: WorkQueue): Promise<string | undefined> {
  let settled = false;
  let got: string | undefined;
  const p = q.get().then((k) => {
    settled = true;
    got = k;
  });
  await Promise.resolve();
  await Promise.resolve();
  if (!settled) throw new Error('get() blocked');
  await p;
  return got;
}

describe('ExponentialBackoff', () => {
  test('doubles from 5 ms and caps at 1000 s; forget starts over', () => {
    const b = new ExponentialBackoff();
    expect([b.next('a'), b.next('a'), b.next('a'), b.next('a')]).toEqual([5, 10, 20, 40]);
    expect(b.next('b')).toBe(5);
    for (let i = 0; i < 200; i++) b.next('a');
    expect(b.next('a')).toBe(1_000_000);
    b.forget('a');
    expect(b.next('a')).toBe(5);
  });
  test('refuses to track more keys than its bound, and rejects nonsense options', () => {
    const b = new ExponentialBackoff({ baseDelayMs: 1, maxDelayMs: 10, maxKeys: 2 });
    b.next('a');
    b.next('b');
    expect(() => b.next('c')).toThrow(/bound 2/);
    expect(b.next('a')).toBe(2); // known keys keep working
    expect(() => new ExponentialBackoff({ baseDelayMs: 0, maxDelayMs: 10, maxKeys: 1 })).toThrow();
  });
});

describe('TokenBucket', () => {
  test('a burst goes at once, then one token per 1/rate seconds', () => {
    const t = new FakeTime();
    const bucket = new TokenBucket(t, { ratePerSecond: 10, burst: 3 });
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(100);
    expect(bucket.reserve()).toBe(200);
    t.now += 1000; // refills to the burst, minus what was borrowed
    expect(bucket.reserve()).toBe(0);
  });
});

describe('WorkQueue', () => {
  test('de-duplicates waiting keys and hands them out in order', async () => {
    const { q } = setup();
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    expect(q.len()).toBe(2);
    expect(await take(q)).toBe('ns/a');
    expect(await take(q)).toBe('ns/b');
  });

  test('a key is never handed to two workers; an add while in progress requeues it after done', async () => {
    const { q } = setup();
    q.add('k');
    expect(await take(q)).toBe('k');
    q.add('k');
    q.add('k');
    expect(q.len()).toBe(0);
    const second = q.get();
    q.done('k');
    expect(await second).toBe('k');
    q.done('k');
    expect(q.len()).toBe(0);
    expect(() => q.done('k')).toThrow(/not being processed/);
  });

  test('a blocked get() receives the next added key', async () => {
    const { q } = setup();
    const waiting = q.get();
    q.add('x');
    expect(await waiting).toBe('x');
    expect(q.inProgress()).toBe(1);
  });

  test('addAfter: ready once the delay passed; the earliest deadline wins; an immediate add supersedes', async () => {
    const { q, t } = setup();
    q.addAfter('k', 1000);
    q.addAfter('k', 300);
    q.addAfter('k', 5000);
    t.advance(299);
    expect(q.len()).toBe(0);
    t.advance(1);
    expect(q.len()).toBe(1);
    expect(q.delayedLen()).toBe(0);
    expect(await take(q)).toBe('k');
    q.done('k');
    q.addAfter('j', 1000);
    q.add('j');
    expect(q.delayedLen()).toBe(0);
    expect(t.timerCount()).toBeLessThanOrEqual(1);
  });

  test('addRateLimited backs off per key exponentially until forget', async () => {
    const { q, t } = setup();
    const readyAfter = async (): Promise<number> => {
      const start = t.now;
      q.addRateLimited('k');
      for (let i = 0; i < 10_000 && q.len() === 0; i++) t.advance(1);
      const waited = t.now - start;
      q.done((await take(q))!);
      return waited;
    };
    expect(await readyAfter()).toBe(5);
    expect(await readyAfter()).toBe(10);
    expect(await readyAfter()).toBe(20);
    expect(q.failures('k')).toBe(3);
    q.forget('k');
    expect(await readyAfter()).toBe(5);
  });

  test('the global bucket slows a storm of failing keys', () => {
    const t = new FakeTime();
    const limiter = new RateLimiter(
      new ExponentialBackoff(),
      new TokenBucket(t, { ratePerSecond: 1, burst: 2 }),
    );
    const q = new WorkQueue(t, t, limiter);
    q.addRateLimited('a');
    q.addRateLimited('b');
    q.addRateLimited('c'); // third failure in the same instant: waits for a token (1 s)
    t.advance(5);
    expect(q.len()).toBe(2);
    t.advance(995);
    expect(q.len()).toBe(3);
  });

  test('bounded: refuses new keys beyond maxKeys, still accepts known ones', () => {
    const { q } = setup(2);
    expect(q.add('a')).toBe(true);
    expect(q.add('b')).toBe(true);
    expect(q.add('c')).toBe(false);
    expect(q.add('a')).toBe(true);
    expect(q.addAfter('d', 10)).toBe(false);
  });

  test('shutDown wakes blocked workers with undefined and refuses adds; done still works', async () => {
    const { q, t } = setup();
    q.add('k');
    expect(await take(q)).toBe('k');
    const blocked = q.get();
    q.addAfter('later', 100);
    q.shutDown();
    expect(await blocked).toBeUndefined();
    expect(q.add('x')).toBe(false);
    expect(t.timerCount()).toBe(0);
    q.done('k');
    expect(await q.get()).toBeUndefined();
  });
});
