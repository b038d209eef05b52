import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import { command, del, interval, key, prefix, put } from '../../testing/kv/test-helpers.js';
import type { RangeOp, TxnOp } from './types.js';
import { validateCommand, validateRangeRequest, withDefaultRangeLimit } from './validate.js';

const small: KvLimits = {
  maxKeyBytes: 4,
  maxValueBytes: 8,
  maxTxnOps: 2,
  maxRangeLimit: 5,
  maxClientIdBytes: 3,
};
const txn = (success: TxnOp[], compareCount = 0) =>
  command({
    kind: 'txn',
    compare: Array.from({ length: compareCount }, () => ({
      key: new Uint8Array([1]),
      operator: 'equal' as const,
      target: { kind: 'version' as const, version: 1 },
    })),
    success,
    failure: [],
  });
const rangeOp = (limit: number, countOnly = false): RangeOp => ({
  kind: 'range',
  range: prefix('a'),
  options: { limit, keysOnly: false, countOnly },
});

describe('validateCommand', () => {
  it('accepts commands within the limits, at exactly the limit', () => {
    expect(validateCommand(command(put('abcd', '12345678')), small)).toBeUndefined();
    expect(validateCommand(txn([put('a', 'b'), rangeOp(5)], 2), small)).toBeUndefined();
    expect(
      validateCommand(command(put('k', 'v'), 0, { clientId: 'abc', sequence: 1 }), small),
    ).toBeUndefined();
  });

  it('names the limit a key, value or transaction breaks', () => {
    expect(validateCommand(command(put('abcde', 'v')), small)).toBe(
      'key is 5 bytes, over the 4-byte limit (maxKeyBytes)',
    );
    expect(validateCommand(command(put('k', '123456789')), small)).toBe(
      'value is 9 bytes, over the 8-byte limit (maxValueBytes)',
    );
    expect(validateCommand(txn([put('a', 'b'), put('a', 'b'), put('a', 'b')]), small)).toBe(
      'txn has 3 success entries, over the 2 limit (maxTxnOps)',
    );
    expect(validateCommand(txn([], 3), small)).toBe(
      'txn has 3 compare entries, over the 2 limit (maxTxnOps)',
    );
    expect(validateCommand(txn([put('a', 'b'), put('abcdef', 'b')]), small)).toBe(
      'txn success op 1: key is 6 bytes, over the 4-byte limit (maxKeyBytes)',
    );
    expect(validateCommand(command(put('k', 'v'), 0, { clientId: 'abcd', sequence: 1 }), small)).toBe(
      'client id is 4 bytes, over the 3-byte limit (maxClientIdBytes)',
    );
  });

  it('uses the documented defaults: 4 KiB keys, 1 MiB values, 128 txn ops', () => {
    expect(DEFAULT_KV_LIMITS).toMatchObject({ maxKeyBytes: 4096, maxValueBytes: 1048576, maxTxnOps: 128 });
    const bigKey = 'k'.repeat(4097);
    expect(validateCommand(command(put(bigKey, 'v')), DEFAULT_KV_LIMITS)).toMatch(/maxKeyBytes/);
  });

  it('rejects malformed requests with the rule broken', () => {
    expect(validateCommand(command(put('', 'v')), small)).toBe('key is empty');
    expect(validateCommand(command(del(interval('b', 'a'))), small)).toBe(
      'range end must be greater than range start',
    );
    expect(validateCommand(command(put('k', 'v'), -1), small)).toMatch(/timestamp -1/);
    expect(validateCommand(command(put('k', 'v'), 0, { clientId: '', sequence: 1 }), small)).toBe(
      'client id is empty',
    );
    expect(validateCommand(command(put('k', 'v'), 0, { clientId: 'c', sequence: 0 }), small)).toMatch(
      /sequence 0/,
    );
    expect(validateCommand(txn([rangeOp(0)]), small)).toMatch(/needs an explicit limit/);
    expect(validateCommand(txn([rangeOp(0, true)]), small)).toBeUndefined();
    const existsLess = command({
      kind: 'txn',
      compare: [{ key: new Uint8Array([1]), operator: 'less', target: { kind: 'exists', exists: true } }],
      success: [],
      failure: [],
    });
    expect(validateCommand(existsLess, small)).toMatch(/only equal and notEqual/);
  });
});

describe('validateRangeRequest', () => {
  const options = { limit: 0, keysOnly: false, countOnly: false };
  it('allows an empty prefix (every key) and open intervals', () => {
    expect(validateRangeRequest(prefix(''), options, small)).toBeUndefined();
    expect(validateRangeRequest(interval(''), options, small)).toBeUndefined();
    expect(validateRangeRequest(key(''), options, small)).toBe('key is empty');
  });

  it('bounds the limit and resolves limit 0 to the maximum', () => {
    expect(validateRangeRequest(prefix('a'), { ...options, limit: 6 }, small)).toBe(
      'range limit 6 is over the 5 limit (maxRangeLimit)',
    );
    expect(withDefaultRangeLimit(options, small).limit).toBe(5);
    expect(withDefaultRangeLimit({ ...options, limit: 2 }, small).limit).toBe(2);
    expect(validateRangeRequest(prefix('a'), { ...options, keysOnly: true, countOnly: true }, small)).toMatch(
      /mutually exclusive/,
    );
  });
});
