import { KUBELET_BACKOFF, nextRestartDelayMs, shouldRestart, validateBackoff } from './backoff.js';

describe('restart back-off', () => {
  it('doubles from 10 s and caps at 300 s', () => {
    const seq: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 8; i++) {
      d = nextRestartDelayMs(KUBELET_BACKOFF, d, 1_000);
      seq.push(d / 1000);
    }
    expect(seq).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
  });
  it('resets after a long clean run', () => {
    expect(nextRestartDelayMs(KUBELET_BACKOFF, 300_000, 600_000)).toBe(10_000);
  });
  it('follows restartPolicy', () => {
    expect(shouldRestart(undefined, 0)).toBe(true);
    expect(shouldRestart('OnFailure', 0)).toBe(false);
    expect(shouldRestart('OnFailure', 1)).toBe(true);
    expect(shouldRestart('Never', 1)).toBe(false);
  });
  it('rejects a policy whose max is below its initial delay', () => {
    expect(() => validateBackoff({ initialMs: 10, maxMs: 5, resetAfterMs: 1 })).toThrow(/invalid back-off/);
  });
});
