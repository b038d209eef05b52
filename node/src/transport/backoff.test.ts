import { Backoff } from './backoff.js';

describe('Backoff', () => {
  const options = { initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0.5 };

  it('doubles from initialMs up to maxMs without jitter when random is 0', () => {
    const backoff = new Backoff(options, () => 0);
    expect(Array.from({ length: 6 }, () => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('shortens each delay by up to the jitter fraction, driven by the injected random source', () => {
    const backoff = new Backoff(options, () => 0.999999);
    const delays = Array.from({ length: 5 }, () => backoff.next());
    expect(delays).toEqual([50, 100, 200, 400, 500]);
  });

  it('starts again from initialMs after reset', () => {
    const backoff = new Backoff(options, () => 0);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('stays within [1, maxMs] for a misbehaving random source and many attempts', () => {
    const values = [Number.NaN, -3, 7, 0.5];
    let i = 0;
    const backoff = new Backoff(options, () => values[i++ % values.length] ?? 0);
    for (let n = 0; n < 200; n += 1) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(1);
      expect(delay).toBeLessThanOrEqual(1000);
    }
  });
});
