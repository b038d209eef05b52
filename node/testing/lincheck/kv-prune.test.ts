// Which operations the search may leave out (kv-prune.ts), and that leaving them out never changes a verdict.
import { isLinearizableExhaustive } from './exhaustive.js';
import { kvModel } from './kv-model.js';
import { prunableKv } from './kv-prune.js';
import type { KvInput, KvOperation, KvOutput } from './kv-types.js';
import { randomInt, seededRandom, type Random } from '../../src/random/prng.js';

function op(input: KvInput, call: number, output?: KvOutput): KvOperation {
  return output === undefined
    ? { client: 1, input, call }
    : { client: 1, input, call, output, return: call + 5 };
}
const put = (value: string, call: number, known = true): KvOperation =>
  op({ op: 'put', key: 'x', value }, call, known ? { op: 'put' } : undefined);
const get = (value: string | null | undefined, call: number): KvOperation =>
  op({ op: 'get', key: 'x' }, call, value === undefined ? undefined : { op: 'get', value });
const del = (deleted: boolean | undefined, call: number): KvOperation =>
  op({ op: 'delete', key: 'x' }, call, deleted === undefined ? undefined : { op: 'delete', deleted });
const cas = (
  expected: string | null,
  value: string,
  succeeded: boolean | undefined,
  call: number,
): KvOperation =>
  op(
    { op: 'cas', key: 'x', expected, value },
    call,
    succeeded === undefined ? undefined : { op: 'cas', succeeded },
  );

describe('prunableKv', () => {
  test('an unknown-outcome read', () => {
    expect(prunableKv([put('a', 0), get(undefined, 10), get('a', 20)])).toEqual([false, true, false]);
  });

  test('a cas expecting a value nothing can write, through chains of such cas', () => {
    // "q" is never written, so the first cas never succeeds, so "r" is never written either.
    const history = [cas('q', 'r', undefined, 0), cas('r', 'a', undefined, 10), get('a', 20), put('a', 30)];
    expect(prunableKv(history)).toEqual([true, true, false, false]);
  });

  test('a cas known to have failed expecting a value nothing writes fits anywhere: it is left out', () => {
    const history = [
      put('a', 0),
      cas('q', 'b', false, 10),
      cas('a', 'c', false, 20),
      cas(null, 'd', false, 30),
    ];
    expect(prunableKv(history)).toEqual([false, true, false, false]);
  });

  test('an unknown-outcome write of a value no known outcome accepts', () => {
    // Nothing reads "p", and nothing accepts "any value present": the unknown put can only make reads fail.
    expect(prunableKv([put('p', 0, false), put('a', 10), get('a', 20)])).toEqual([true, false, false]);
    // A delete that deleted accepts any value: now the unknown put may be what it deleted.
    expect(prunableKv([put('p', 0, false), del(true, 10)])).toEqual([false, false]);
  });

  test('an unknown-outcome delete is kept only if some known outcome accepts absence', () => {
    expect(prunableKv([put('a', 0), del(undefined, 10), get('a', 20)])).toEqual([false, true, false]);
    expect(prunableKv([put('a', 0), del(undefined, 10), get(null, 20)])).toEqual([false, false, false]);
    // A cas expecting "a" that failed accepts absence too.
    expect(prunableKv([put('a', 0), del(undefined, 10), cas('a', 'b', false, 20)])).toEqual([
      false,
      false,
      false,
    ]);
  });

  test('a chain of unknown-outcome writes that leads to a needed value is kept whole', () => {
    const history = [put('p', 0, false), cas('p', 'a', undefined, 10), get('a', 20)];
    expect(prunableKv(history)).toEqual([false, false, false]);
  });

  test('keys are independent', () => {
    const other: KvOperation = {
      client: 1,
      input: { op: 'get', key: 'y' },
      call: 0,
      output: { op: 'get', value: 'p' },
    };
    expect(prunableKv([put('p', 0, false), { ...other, return: 5 }])).toEqual([true, false]);
  });

  test('leaving the pruned operations out never changes the verdict (2,000 tiny random histories)', () => {
    let pruned = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const history = tinyHistory(seededRandom(seed));
      const prune = prunableKv(history);
      const kept = history.filter((_, i) => !prune[i]);
      pruned += history.length - kept.length;
      const full = isLinearizableExhaustive(kvModel, history);
      if (isLinearizableExhaustive(kvModel, kept) !== full) {
        throw new Error(`seed ${seed}: verdict ${full} changed by pruning ${JSON.stringify(history)}`);
      }
    }
    // The generator must give the rules something to do, or this test would prove little.
    expect(pruned).toBeGreaterThan(1000);
  });
});

/** Up to 8 operations on one key, half with unknown outcomes, values from a small domain. */
function tinyHistory(random: Random): KvOperation[] {
  const pick = <T>(items: readonly T[]): T => items[randomInt(random, 0, items.length - 1)]!;
  const values = ['a', 'b', 'c'];
  const history: KvOperation[] = [];
  const count = randomInt(random, 1, 8);
  for (let i = 0; i < count; i++) {
    const call = randomInt(random, 0, 20);
    const known = random() < 0.5;
    let next: KvOperation;
    switch (pick(['put', 'get', 'delete', 'cas', 'cas'] as const)) {
      case 'put':
        next = put(pick(values), call, known);
        break;
      case 'get':
        next = get(known ? pick([...values, null]) : undefined, call);
        break;
      case 'delete':
        next = del(known ? random() < 0.5 : undefined, call);
        break;
      case 'cas':
        next = cas(pick([...values, null, 'q']), pick(values), known ? random() < 0.5 : undefined, call);
        break;
    }
    history.push({
      ...next,
      client: i,
      ...(next.output === undefined ? {} : { return: call + randomInt(random, 0, 10) }),
    });
  }
  return history;
}
