import { describe, expect, test } from '@jest/globals';
import { durationMs } from './duration.js';

describe('durationMs', () => {
  test.each([
    ['5m', 300_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['1m30s', 90_000],
  ])('%s is %d ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });

  test.each(['', '5', 'm', '5 m', '-5m', '5d', '1h 30m'])('%j is not a duration', (text) => {
    expect(durationMs(text)).toBeUndefined();
  });
});
