// The pre-checks on their own (precheck.ts), then through checkLinearizable on a hard generated history that the
// search alone cannot decide within a small budget.
import { checkLinearizable } from './check.js';
import { isLinearizableExhaustive } from './exhaustive.js';
import { corruptRead, generateKvHistory } from './generate.js';
import { kvModel } from './kv-model.js';
import type { KvInput, KvOperation, KvOutput } from './kv-types.js';
import { precheckKv } from './precheck.js';
import { searchPartition } from './search.js';
import { seededRandom } from '../../src/random/prng.js';

function op(input: KvInput, call: number, output?: KvOutput, ret?: number): KvOperation {
  return output === undefined ? { client: 1, input, call } : { client: 1, input, call, output, return: ret };
}
const put = (value: string, call: number, ret?: number): KvOperation =>
  op({ op: 'put', key: 'x', value }, call, ret === undefined ? undefined : { op: 'put' }, ret);
const get = (value: string | null, call: number, ret: number): KvOperation =>
  op({ op: 'get', key: 'x' }, call, { op: 'get', value }, ret);
const cas = (
  expected: string | null,
  value: string,
  succeeded: boolean | undefined,
  call: number,
  ret = call + 1,
) =>
  op(
    { op: 'cas', key: 'x', expected, value },
    call,
    succeeded === undefined ? undefined : { op: 'cas', succeeded },
    ret,
  );
const del = (deleted: boolean, call: number, ret: number): KvOperation =>
  op({ op: 'delete', key: 'x' }, call, { op: 'delete', deleted }, ret);

describe('precheckKv: an observation of a value that nothing wrote', () => {
  test.each<[string, KvOperation[], number, RegExp]>([
    [
      'a read of a value never written',
      [put('a', 0, 10), get('zzz', 20, 30)],
      1,
      /observed "zzz", but no operation/,
    ],
    [
      'a cas that succeeded expecting a value never written',
      [put('a', 0, 10), cas('b', 'c', true, 20)],
      1,
      /"b"/,
    ],
    [
      'a delete that deleted, with no write at all',
      [get(null, 0, 5), del(true, 10, 20)],
      1,
      /held a value, but no/,
    ],
    [
      'a cas expecting absence that failed, with no write at all',
      [cas(null, 'a', false, 10)],
      0,
      /held a value/,
    ],
  ])('%s', (_name, history, index, reason) => {
    const finding = precheckKv(history);
    expect(finding?.index).toBe(index);
    expect(finding?.reason).toMatch(reason);
    expect(finding?.related).toEqual([]);
    // The finding alone is the counterexample, even with every other operation's outcome unknown.
    expect(isLinearizableExhaustive(kvModel, [history[index]!])).toBe(false);
  });

  test('an unknown-outcome write counts as a writer, and so does a cas reported as failed', () => {
    expect(precheckKv([put('a', 0), get('a', 20, 30)])).toBeUndefined();
    expect(precheckKv([cas('q', 'a', false, 0), get('a', 20, 30)])).toBeUndefined();
    expect(precheckKv([cas(null, 'a', undefined, 0), del(true, 20, 30)])).toBeUndefined();
  });

  test('keys are separate: a write of the value to another key explains nothing', () => {
    const other: KvOperation = op({ op: 'put', key: 'y', value: 'a' }, 0, { op: 'put' }, 5);
    expect(precheckKv([other, get('a', 20, 30)])?.index).toBe(1);
  });
});

describe('precheckKv: a value whose only writers started after the observer returned', () => {
  test('a read returning a value written only later', () => {
    const history = [put('a', 0, 10), get('b', 20, 30), put('b', 40, 50)];
    const finding = precheckKv(history);
    expect(finding).toEqual({
      index: 1,
      reason:
        'observed "b", but the only operation that wrote "b" to this key started after this one returned',
      related: [2],
    });
  });

  test('all writers later, one of them with an unknown outcome', () => {
    const history = [get('b', 20, 30), put('b', 40, 50), put('b', 31)];
    expect(precheckKv(history)?.reason).toMatch(/all 2 operations that wrote "b"/);
  });

  test('equal timestamps overlap: a writer called the instant the read returned explains it', () => {
    expect(precheckKv([get('b', 20, 30), put('b', 30, 50)])).toBeUndefined();
    expect(precheckKv([get('b', 20, 30), put('b', 30.5, 50)])?.index).toBe(0);
  });

  test('a delete that deleted before any write started', () => {
    expect(precheckKv([del(true, 0, 10), put('a', 11, 12)])?.related).toEqual([1]);
  });

  test('the observer that returned first is reported', () => {
    const history = [get('late', 50, 60), get('early', 0, 10), put('late', 70, 80)];
    expect(precheckKv(history)?.index).toBe(1);
  });

  test('proves nothing about a history it cannot decide (a stale read needs the search)', () => {
    expect(precheckKv([put('a', 0, 10), put('b', 20, 30), get('a', 40, 50)])).toBeUndefined();
  });

  test('an empty history, and one of only writes', () => {
    expect(precheckKv([])).toBeUndefined();
    expect(precheckKv([put('a', 0, 1), del(false, 2, 3)])).toBeUndefined();
  });
});

describe('the pre-check decides a hard history the search alone cannot', () => {
  // Issue 12: a single key, 16 clients, 10% unknown outcomes, 1,000 operations, its last read corrupted to a value
  // nothing wrote. The search must rule out every order of the history before that read: with a small budget it
  // answers unknown; the pre-check decides at once.
  const SEED = 1;
  const BUDGET_STEPS = 20_000;
  const history = generateKvHistory({
    operations: 1000,
    keys: 1,
    clients: 16,
    unknownRate: 0.1,
    maxLatency: 40,
    random: seededRandom(SEED),
  });
  const lastRead = history.findLastIndex((o) => o.output?.op === 'get');
  const corrupted = corruptRead(history, lastRead, 'never-written');

  test(`seed ${SEED}: the search alone answers unknown with ${BUDGET_STEPS} steps`, () => {
    const outcome = searchPartition(kvModel, corrupted, {
      budgetSteps: BUDGET_STEPS,
      maxCacheBytes: 256 << 20,
    });
    expect(outcome.kind).toBe('exhausted');
  });

  test(`seed ${SEED}: checkLinearizable with the same budget reports the read, found by the pre-check`, () => {
    const result = checkLinearizable(kvModel, corrupted, { budgetSteps: BUDGET_STEPS });
    if (result.kind !== 'violation') throw new Error(`expected a violation, got ${JSON.stringify(result)}`);
    expect(result.decidedBy).toBe('precheck');
    expect(result.operations).toEqual([corrupted[lastRead]]);
    expect(result.partitionOperations).toBe(1000);
    expect(result.explanation).toMatch(
      /pre-check before any search: this operation observed "never-written"/,
    );
  });
});
