// The test-support pieces: the history generator and the exhaustive oracle.
import { EXHAUSTIVE_MAX_OPERATIONS, isLinearizableExhaustive } from './exhaustive.js';
import { generateKvHistory } from './generate.js';
import { kvModel } from './kv-model.js';
import { seededRandom } from '../../src/random/prng.js';

describe('generateKvHistory', () => {
  const options = { operations: 400, keys: 3, clients: 5, unknownRate: 0.1, maxLatency: 20 };

  test('is reproducible from its seed', () => {
    const a = generateKvHistory({ ...options, random: seededRandom(9) });
    const b = generateKvHistory({ ...options, random: seededRandom(9) });
    expect(a).toEqual(b);
    expect(a).toHaveLength(400);
  });

  test('a client waits for each known outcome before calling again, and windows are well formed', () => {
    const history = generateKvHistory({ ...options, random: seededRandom(5) });
    const unknown = history.filter((op) => op.output === undefined).length;
    expect(unknown).toBeGreaterThan(20);
    expect(unknown).toBeLessThan(70);
    for (const op of history) {
      if (op.output === undefined) expect(op.return).toBeUndefined();
      else expect(op.return!).toBeGreaterThanOrEqual(op.call);
      const next = history.find((other) => other.client === op.client && other.call > op.call);
      if (next !== undefined && op.return !== undefined) expect(next.call).toBeGreaterThan(op.return);
    }
  });

  test('rejects invalid options', () => {
    expect(() => generateKvHistory({ ...options, clients: 0, random: seededRandom(1) })).toThrow(RangeError);
  });
});

describe('isLinearizableExhaustive', () => {
  test('a stale read is not linearizable; the same read while the write is in flight is', () => {
    const put = {
      client: 1,
      input: { op: 'put' as const, key: 'k', value: 'a' },
      call: 0,
      output: { op: 'put' as const },
    };
    const read = {
      client: 2,
      input: { op: 'get' as const, key: 'k' },
      call: 20,
      output: { op: 'get' as const, value: null },
      return: 30,
    };
    expect(isLinearizableExhaustive(kvModel, [{ ...put, return: 10 }, read])).toBe(false);
    expect(isLinearizableExhaustive(kvModel, [{ ...put, return: 25 }, read])).toBe(true);
  });

  test('an unknown outcome may be left out', () => {
    const put = { client: 1, input: { op: 'put' as const, key: 'k', value: 'a' }, call: 0 };
    const read = {
      client: 2,
      input: { op: 'get' as const, key: 'k' },
      call: 20,
      output: { op: 'get' as const, value: null },
      return: 30,
    };
    expect(isLinearizableExhaustive(kvModel, [put, read])).toBe(true);
  });

  test('refuses histories too long to enumerate', () => {
    const ops = Array.from({ length: EXHAUSTIVE_MAX_OPERATIONS + 1 }, (_, i) => ({
      client: i,
      input: { op: 'get' as const, key: 'k' },
      call: i,
    }));
    expect(() => isLinearizableExhaustive(kvModel, ops)).toThrow(/at most 10 operations/);
  });
});
