// Known bad histories must be rejected with a small counterexample; known good ones accepted. Times are small
// integers; [call, return] windows that do not overlap are ordered in real time.
import { checkLinearizable, type CheckResult } from './check.js';
import { isLinearizableExhaustive } from './exhaustive.js';
import type { Operation } from './history.js';
import { kvModel, type KvInput, type KvOutput } from './kv-model.js';
import type { Model } from './model.js';

type KvOp = Operation<KvInput, KvOutput>;

function put(client: number, key: string, value: string, call: number, ret?: number): KvOp {
  const input: KvInput = { op: 'put', key, value };
  return ret === undefined
    ? { client, input, call }
    : { client, input, call, output: { op: 'put' }, return: ret };
}
function get(client: number, key: string, value: string | null, call: number, ret: number): KvOp {
  return { client, input: { op: 'get', key }, call, output: { op: 'get', value }, return: ret };
}
function del(client: number, key: string, deleted: boolean, call: number, ret: number): KvOp {
  return { client, input: { op: 'delete', key }, call, output: { op: 'delete', deleted }, return: ret };
}
function cas(
  client: number,
  key: string,
  expected: string | null,
  value: string,
  succeeded: boolean | undefined,
  call: number,
  ret?: number,
): KvOp {
  const input: KvInput = { op: 'cas', key, expected, value };
  if (succeeded === undefined) return { client, input, call };
  return { client, input, call, output: { op: 'cas', succeeded }, return: ret ?? Infinity };
}

function expectViolation(result: CheckResult): Extract<CheckResult, { kind: 'violation' }> {
  if (result.kind !== 'violation') throw new Error(`expected a violation, got ${JSON.stringify(result)}`);
  return result;
}

describe('checkLinearizable rejects known bad histories', () => {
  test('stale read: a read after a completed overwrite returns the old value', () => {
    const history = [put(1, 'x', 'a', 0, 10), put(2, 'x', 'b', 20, 30), get(3, 'x', 'a', 40, 50)];
    const result = expectViolation(checkLinearizable(kvModel, history));
    expect(result.partitionKey).toBe('x');
    // The write of "a" stays in the counterexample because the read returned it (retainWhenShrinking).
    expect(result.operations).toEqual(history);
    expect(result.explanation).toContain('get("x") -> "a"');
    expect(result.explanation).toContain('[20, 30] client 2: put("x", "b") -> ok');
  });

  test('lost update: an acknowledged write is not visible to a later read', () => {
    const history = [put(1, 'x', 'a', 0, 10), get(2, 'x', null, 20, 30)];
    expect(expectViolation(checkLinearizable(kvModel, history)).operations).toEqual(history);
  });

  test('lost update: two concurrent cas from the same expected value both succeed', () => {
    const history = [cas(1, 'x', null, 'a', true, 0, 10), cas(2, 'x', null, 'b', true, 5, 15)];
    expect(expectViolation(checkLinearizable(kvModel, history)).operations).toHaveLength(2);
  });

  test('read of a value that was never written', () => {
    const history = [put(1, 'x', 'a', 0, 10), get(2, 'x', 'zzz', 5, 15)];
    const result = expectViolation(checkLinearizable(kvModel, history));
    expect(result.operations).toEqual([history[1]]);
  });

  test('non-monotonic reads across clients: b is observed, then a later read returns the older a', () => {
    const history = [
      put(1, 'x', 'a', 0, 10),
      put(2, 'x', 'b', 0, 100),
      get(3, 'x', 'b', 20, 30),
      get(4, 'x', 'a', 40, 50),
    ];
    // The write of b may stay out: even with its outcome unknown (any time after its call, or never) this fails.
    expect(expectViolation(checkLinearizable(kvModel, history)).operations).toEqual([
      history[0],
      history[2],
      history[3],
    ]);
  });

  test('a cas succeeds against the wrong value', () => {
    const history = [put(1, 'x', 'a', 0, 10), put(3, 'x', 'b', 0, 10), put(4, 'x', 'c', 15, 16)];
    history.push(cas(2, 'x', 'b', 'd', true, 20, 30));
    // The write of "b" stays (the cas read it); the write of "c" is what makes the cas wrong.
    expect(expectViolation(checkLinearizable(kvModel, history)).operations).toEqual(history.slice(1));
  });

  test('a cas succeeds expecting a value that was never written', () => {
    const history = [put(1, 'x', 'a', 0, 10), cas(2, 'x', 'b', 'c', true, 20, 30)];
    expect(expectViolation(checkLinearizable(kvModel, history)).operations).toEqual([history[1]]);
  });

  test('a cas expecting absence succeeds on a present key', () => {
    const history = [put(1, 'x', 'a', 0, 10), cas(2, 'x', null, 'c', true, 20, 30)];
    expectViolation(checkLinearizable(kvModel, history));
  });

  test('a delete reports deleting a key that was never written', () => {
    expectViolation(checkLinearizable(kvModel, [del(1, 'x', true, 0, 10)]));
  });

  test('an unknown-outcome write takes effect at one point only: it cannot appear and then vanish', () => {
    const history = [put(1, 'x', 'a', 0), get(2, 'x', 'a', 20, 30), get(3, 'x', null, 40, 50)];
    expectViolation(checkLinearizable(kvModel, history));
  });

  test('the violation names the failing key, not a healthy one', () => {
    const history = [put(1, 'ok', 'a', 0, 10), get(2, 'ok', 'a', 20, 30), ...[put(1, 'bad', 'a', 40, 50)]];
    history.push(get(2, 'bad', null, 60, 70));
    const result = expectViolation(checkLinearizable(kvModel, history));
    expect(result.partitionKey).toBe('bad');
    expect(result.partitionOperations).toBe(2);
  });

  test('shrinking never blames an operation for a violation created by dropping another', () => {
    // Stale read of "a". Dropping the put of "a" would leave "delete -> deleted" unexplained, a different and
    // misleading failure; shrinking relaxes operations instead. Relaxed, the put of "a" may still be what the
    // delete deleted, but then nothing writes "a" again: the delete and the read are a core on their own.
    const history = [
      put(1, 'x', 'a', 0, 10),
      del(2, 'x', true, 20, 30),
      get(3, 'x', null, 40, 50),
      put(1, 'x', 'b', 60, 70),
      get(4, 'x', 'a', 80, 90),
    ];
    const result = expectViolation(checkLinearizable(kvModel, history));
    expect(result.operations).toEqual([history[1], history[4]]);
    expect(result.explanation).toContain('even if the other 3 operations');
    // What it claims: with every other operation's outcome unknown, still no order works.
    const relaxed = history.map((op) =>
      result.operations.includes(op) ? op : { client: op.client, input: op.input, call: op.call },
    );
    expect(isLinearizableExhaustive(kvModel, relaxed)).toBe(false);
  });

  test('shrinks a long failing key to the few operations that matter', () => {
    const history: KvOp[] = [];
    for (let i = 0; i < 50; i++) history.push(put(1, 'x', `v${i}`, i * 10, i * 10 + 5));
    history.push(get(2, 'x', 'v10', 1000, 1010)); // stale: v49 was written last
    for (let i = 0; i < 20; i++) history.push(get(3, 'x', 'v49', 2000 + i * 10, 2005 + i * 10));
    const result = expectViolation(checkLinearizable(kvModel, history));
    expect(result.partitionOperations).toBe(71);
    // The read, the value it read, and one later completed write are enough.
    expect(result.operations).toHaveLength(3);
    expect(result.operations).toContain(history[50]);
    expect(result.operations).toContain(history[10]);
  });
});

describe('checkLinearizable accepts good histories', () => {
  test.each([
    ['the read sees the concurrent write', 'a'],
    ['the read precedes the concurrent write', null],
  ])('overlapping put and get: %s', (_name, value) => {
    const history = [put(1, 'x', 'a', 0, 100), get(2, 'x', value, 10, 20)];
    expect(checkLinearizable(kvModel, history)).toEqual({
      kind: 'linearizable',
      operations: 2,
      partitions: 1,
    });
  });

  test.each(['a', 'b'])('two concurrent puts may take effect in either order (last is %s)', (last) => {
    const history = [put(1, 'x', 'a', 0, 10), put(2, 'x', 'b', 5, 15), get(3, 'x', last, 20, 30)];
    expect(checkLinearizable(kvModel, history).kind).toBe('linearizable');
  });

  test.each([
    ['did happen', 'a'],
    ['did not happen', null],
  ])('an unknown-outcome write that %s', (_name, value) => {
    const history = [put(1, 'x', 'a', 0), get(2, 'x', value, 20, 30), get(3, 'x', value, 40, 50)];
    expect(checkLinearizable(kvModel, history).kind).toBe('linearizable');
  });

  test('an unknown-outcome write may take effect long after the client gave up (its return is ignored)', () => {
    const timedOut: KvOp = { client: 1, input: { op: 'put', key: 'x', value: 'a' }, call: 0, return: 5 };
    const history = [timedOut, get(2, 'x', null, 100, 110), get(3, 'x', 'a', 200, 210)];
    expect(checkLinearizable(kvModel, history).kind).toBe('linearizable');
  });

  test('an unknown-outcome cas succeeds only if it can: it explains a read only from the right state', () => {
    const good = [put(1, 'x', 'a', 0, 10), cas(2, 'x', 'a', 'b', undefined, 20), get(3, 'x', 'b', 30, 40)];
    expect(checkLinearizable(kvModel, good).kind).toBe('linearizable');
    const bad = [put(1, 'x', 'a', 0, 10), cas(2, 'x', 'z', 'b', undefined, 20), get(3, 'x', 'b', 30, 40)];
    expectViolation(checkLinearizable(kvModel, bad));
  });

  test('a write of the value already there is not a read: it may still take effect later', () => {
    const history = [
      put(1, 'x', 'a', 0, 10),
      put(2, 'x', 'a', 5, 100),
      put(3, 'x', 'b', 20, 30),
      get(4, 'x', 'a', 40, 50),
    ];
    expect(checkLinearizable(kvModel, history).kind).toBe('linearizable');
  });

  test('operations that touch at one instant count as concurrent', () => {
    const history = [put(1, 'x', 'a', 0, 10), get(2, 'x', null, 10, 20)];
    expect(checkLinearizable(kvModel, history).kind).toBe('linearizable');
  });

  test('an empty history and one of only unknown outcomes are linearizable', () => {
    expect(checkLinearizable(kvModel, [])).toEqual({ kind: 'linearizable', operations: 0, partitions: 0 });
    expect(checkLinearizable(kvModel, [put(1, 'x', 'a', 0), put(2, 'y', 'b', 1)]).kind).toBe('linearizable');
  });

  test('many keys are checked independently', () => {
    const history: KvOp[] = [];
    for (let k = 0; k < 10; k++) {
      history.push(put(k, `k${k}`, `v${k}`, k, k + 100), get(k + 10, `k${k}`, `v${k}`, k + 50, k + 60));
    }
    expect(checkLinearizable(kvModel, history)).toEqual({
      kind: 'linearizable',
      operations: 20,
      partitions: 10,
    });
  });
});

describe('checkLinearizable bounds', () => {
  // Ten concurrent writes, then reads of each value in turn and of the first one again: v0 is written once, so no
  // order works, but the search must try the orders of the writes before it knows (no pre-check can tell).
  function hardHistory(): KvOp[] {
    const history: KvOp[] = [];
    for (let i = 0; i < 10; i++) history.push(put(i, 'x', `v${i}`, 0, 1000));
    for (let i = 0; i <= 10; i++) history.push(get(20 + i, 'x', `v${i % 10}`, 100 + 10 * i, 105 + 10 * i));
    return history;
  }

  test('a step budget that runs out gives unknown, not pass or fail', () => {
    const result = checkLinearizable(kvModel, hardHistory(), { budgetSteps: 50 });
    expect(result.kind).toBe('unknown');
    expect(result.kind === 'unknown' && result.reason).toMatch(
      /budget exhausted in 1 partition.*"x".*step budget/,
    );
  });

  test('a memory bound that is reached gives unknown', () => {
    const result = checkLinearizable(kvModel, hardHistory(), { maxCacheBytes: 1000 });
    expect(result.kind === 'unknown' && result.reason).toMatch(/memory bound/);
  });

  test('a deadline on the injected clock gives unknown and stops the remaining partitions', () => {
    let clock = 0;
    const now = (): number => (clock += 1);
    const history = [...hardHistory(), put(1, 'y', 'a', 0, 1)];
    const result = checkLinearizable(kvModel, history, { deadlineMs: 0.5, now });
    expect(result.kind === 'unknown' && result.reason).toMatch(/1 partition\(s\).*deadline passed/);
  });

  test('the same history with enough budget is a violation', () => {
    expect(checkLinearizable(kvModel, hardHistory()).kind).toBe('violation');
  });

  test('a violation in another partition wins over an exhausted budget', () => {
    const history = [...hardHistory().map((op) => ({ ...op, input: { ...op.input, key: 'hard' } }))];
    history.push(put(1, 'y', 'a', 0, 1), put(2, 'y', 'b', 2, 3), get(3, 'y', 'a', 4, 5)); // stale read
    const result = expectViolation(checkLinearizable(kvModel, history, { budgetSteps: 50 }));
    expect(result.partitionKey).toBe('y');
    expect(result.operations).toHaveLength(3);
  });

  test('pre-checks run on every partition before any search spends its budget', () => {
    const history = [...hardHistory().map((op) => ({ ...op, input: { ...op.input, key: 'hard' } }))];
    history.push(get(1, 'y', 'never', 0, 1));
    // One search step could decide nothing about "hard", which comes first; y's violation needs none.
    const result = expectViolation(checkLinearizable(kvModel, history, { budgetSteps: 1 }));
    expect(result.partitionKey).toBe('y');
    expect(result.decidedBy).toBe('precheck');
    expect(result.explanation).toBe(
      'partition "y", found by a pre-check before any search: this operation observed "never", but no operation ' +
        'ever wrote "never" to this key, so no order can explain it, even if the other 0 operations of the ' +
        'partition had unknown outcomes (took effect at any time after their call, or never):\n' +
        '  [0, 1] client 1: get("y") -> "never"',
    );
  });

  test('a pre-check names the writers that started too late', () => {
    const history = [get(1, 'x', 'b', 0, 10), put(2, 'x', 'b', 20, 30)];
    const result = expectViolation(checkLinearizable(kvModel, history));
    expect(result.operations).toEqual([history[0]]);
    expect(result.explanation).toContain(
      'the only operation that wrote "b" to this key started after this one returned',
    );
    expect(
      result.explanation.endsWith('the operation it refers to:\n  [20, 30] client 2: put("x", "b") -> ok'),
    ).toBe(true);
  });

  test.each([
    [{ call: NaN }, /call must be a finite number/],
    [{ call: 10, return: 5 }, /return \(5\) must be a number >= call \(10\)/],
  ])('rejects an invalid operation %j', (fields, message) => {
    const op = { ...put(1, 'x', 'a', 0, 1), ...fields };
    expect(() => checkLinearizable(kvModel, [op])).toThrow(message);
  });

  test('rejects a non-positive budget', () => {
    expect(() => checkLinearizable(kvModel, [], { budgetSteps: 0 })).toThrow(/budgetSteps must be > 0/);
  });
});

describe('checkLinearizable without partitioning', () => {
  // The same model minus partition(): the whole history is one search, whose result must agree.
  const whole: Model<ReadonlyMap<string, string>, KvInput, KvOutput> = {
    ...kvModel,
    partition: undefined,
    partitionKey: undefined,
  };

  test('agrees with the partitioned check', () => {
    const good = [
      put(1, 'x', 'a', 0, 10),
      put(2, 'y', 'b', 5, 15),
      get(3, 'x', 'a', 20, 30),
      get(4, 'y', 'b', 1, 40),
    ];
    expect(checkLinearizable(whole, good)).toEqual({ kind: 'linearizable', operations: 4, partitions: 1 });
    const bad = [...good, get(5, 'y', null, 50, 60)];
    const result = expectViolation(checkLinearizable(whole, bad));
    expect(result.partitionKey).toBe('#0');
    // The write of "b" completed, and nothing deleted it before the read of nothing.
    expect(result.operations).toEqual([good[1], bad[4]]);
  });
});
