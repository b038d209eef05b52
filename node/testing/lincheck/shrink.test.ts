// Shrinking a violation to its core (shrink.ts): a stale read planted in a long, busy history is reported as the
// three operations that make it one.
import { checkLinearizable, type CheckResult } from './check.js';
import { isLinearizableExhaustive } from './exhaustive.js';
import { generateKvHistory, plantStaleRead } from './generate.js';
import { effectiveReturn } from './history.js';
import { kvModel } from './kv-model.js';
import type { KvOperation } from './kv-types.js';
import { localizeViolation, shrinkViolation } from './shrink.js';
import { seededRandom } from '../../src/random/prng.js';

/** 1,000 operations from 16 clients: the hard histories of issue 12 have one key and 10% unknown outcomes. */
function history(seed: number, keys: number, unknownRate: number): KvOperation[] {
  return generateKvHistory({
    operations: 1000,
    keys,
    clients: 16,
    unknownRate,
    maxLatency: 40,
    random: seededRandom(seed),
  });
}

/** Plants a stale read, checks, and expects exactly the three operations of the stale read. */
function expectStaleReadCore(seed: number, keys: number, unknownRate: number): Violation {
  const planted = plantStaleRead(history(seed, keys, unknownRate));
  if (planted === undefined) throw new Error(`seed ${seed}: no read to make stale`);
  const { history: ops, read, write } = planted;
  const result = checkLinearizable(kvModel, ops);
  if (result.kind !== 'violation') throw new Error(`seed ${seed}: expected a violation, got ${result.kind}`);
  expect(result.operations).toHaveLength(3);
  expect(result.operations).toContain(ops[read]);
  expect(result.operations).toContain(ops[write]);
  // The third is a completed write strictly between them in real time (not necessarily the one planted).
  const overwrite = result.operations.find((op) => op !== ops[read] && op !== ops[write])!;
  expect(overwrite.output).toBeDefined();
  expect(effectiveReturn(ops[write]!)).toBeLessThan(overwrite.call);
  expect(effectiveReturn(overwrite)).toBeLessThan(ops[read]!.call);
  expect(result.explanation).not.toContain('shrinking stopped');
  expect(isLinearizableExhaustive(kvModel, result.operations as KvOperation[])).toBe(false);
  return result;
}

type Violation = Extract<CheckResult, { kind: 'violation' }>;

describe('a stale read planted in 1,000 operations is reported as exactly its three operations', () => {
  test.each([1, 2, 3])('seed %i, one key, no unknown outcomes: found by the search, then shrunk', (seed) => {
    expect(expectStaleReadCore(seed, 1, 0).decidedBy).toBe('search');
  });

  test.each([1, 5])(
    'seed %i, one key, 10%% unknown outcomes: found around where the search stopped',
    (seed) => {
      expect(expectStaleReadCore(seed, 1, 0.1).decidedBy).toBe('local-search');
    },
  );

  test('seed 4, five keys, 10% unknown outcomes', () => {
    expectStaleReadCore(4, 5, 0.1);
  });
});

describe('shrinkViolation bounds', () => {
  const planted = plantStaleRead(history(1, 1, 0))!;
  const partition = planted.history;

  test('a shrinking budget that runs out still gives a proven failure, marked incomplete', () => {
    const result = checkLinearizable(kvModel, partition, { shrinkBudgetSteps: 1 });
    if (result.kind !== 'violation') throw new Error(`expected a violation, got ${result.kind}`);
    expect(result.decidedBy).toBe('search');
    expect(result.explanation).toContain('(shrinking stopped at its budget; a smaller set may exist)');
    // Whatever it kept still fails with every other operation relaxed, so it holds the planted read.
    expect(result.operations).toContain(partition[planted.read]);
    expect(result.operations.length).toBeGreaterThan(3);
  });

  test('rejects a hint whose blocker is not a known outcome within the prefix', () => {
    const limits = { budgetSteps: 1000, maxCacheBytes: 1 << 20 };
    expect(() => shrinkViolation(kvModel, partition, { prefix: [0, 1], blocker: 2 }, limits)).toThrow(
      /blocker #2 must be a known outcome within the prefix/,
    );
  });

  test('localizeViolation rejects an operation with an unknown outcome as the place to look', () => {
    const unknown = partition.findIndex((op) => op.output === undefined);
    const at = unknown === -1 ? partition.length : unknown;
    const limits = { budgetSteps: 1000, maxCacheBytes: 1 << 20 };
    expect(() => localizeViolation(kvModel, partition, at, limits)).toThrow(
      /must exist and have a known outcome/,
    );
  });

  test('localizeViolation finds nothing in a linearizable history', () => {
    const good = history(1, 1, 0.1);
    const last = good.findLastIndex((op) => op.output !== undefined);
    expect(
      localizeViolation(kvModel, good, last, { budgetSteps: 200_000, maxCacheBytes: 1 << 26 }),
    ).toBeUndefined();
  });
});
