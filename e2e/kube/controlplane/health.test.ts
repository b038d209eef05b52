import { WaitError, waitFor } from './health.js';

/** A fake clock that advances only when the waiter sleeps, so the test is instant and exact. */
function fakeClock() {
  let t = 0;
  return { now: () => t, sleep: (ms: number) => Promise.resolve((t += ms)) };
}

describe('waitFor', () => {
  it('returns the elapsed time once the probe passes, treating throws as not-yet', async () => {
    const clock = fakeClock();
    let calls = 0;
    const elapsed = await waitFor(
      () => {
        calls++;
        if (calls === 1) return Promise.reject(new Error('ECONNREFUSED'));
        return Promise.resolve(calls < 4 ? 'HTTP 500' : true);
      },
      { what: 'apiserver', timeoutMs: 10_000, intervalMs: 100, ...clock },
    );
    expect(calls).toBe(4);
    expect(elapsed).toBe(300);
  });

  it('fails at the deadline with the last probe result and the log detail', async () => {
    const clock = fakeClock();
    const p = waitFor(() => Promise.resolve('HTTP 503 [-]etcd failed'), {
      what: 'apiserver /readyz',
      timeoutMs: 1000,
      intervalMs: 250,
      detail: () => 'E1122 etcd connection refused',
      ...clock,
    });
    await expect(p).rejects.toThrow(WaitError);
    await expect(p).rejects.toThrow(
      /not healthy after 1000 ms \(last probe: HTTP 503 \[-\]etcd failed\)[\s\S]*connection refused/,
    );
    expect(clock.now()).toBe(1000);
  });

  it('fails at once when the process died', async () => {
    const clock = fakeClock();
    await expect(
      waitFor(() => Promise.resolve('connection refused'), {
        what: 'etcd',
        timeoutMs: 60_000,
        alive: () => false,
        ...clock,
      }),
    ).rejects.toThrow(/etcd: process exited/);
    expect(clock.now()).toBe(0);
  });
});
