import { describe, expect, test } from '@jest/globals';
import { storageBytes } from './storage-bytes.js';

describe('storageBytes', () => {
  test.each([
    ['1Gi', 2 ** 30],
    ['1024Mi', 2 ** 30],
    ['1G', 1e9],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['500M', 5e8],
    ['2e9', 2e9],
    ['1073741824', 2 ** 30],
    ['100k', 1e5],
    ['1500m', 2], // 1.5 bytes, rounded up as the API server does
  ])('%s is %d bytes', (q, bytes) => {
    expect(storageBytes(q)).toBe(bytes);
  });

  test.each(['', 'abc', '1Gb', '-1Gi', '1 Gi', 'Gi'])('%j is not a storage quantity', (q) => {
    expect(storageBytes(q)).toBeUndefined();
  });
});
