import type { Operation } from './history.js';
import { kvCodec } from './kv-codec.js';
import { kvModel, type KvInput, type KvOutput, type KvState } from './kv-model.js';

const empty = kvModel.init();
const withA: KvState = new Map([['k', 'a']]);

describe('kvModel.step', () => {
  test.each<[string, KvState, KvInput, KvOutput | undefined, boolean, KvState]>([
    ['put sets', empty, { op: 'put', key: 'k', value: 'a' }, { op: 'put' }, true, withA],
    ['get of a present key', withA, { op: 'get', key: 'k' }, { op: 'get', value: 'a' }, true, withA],
    ['get of an absent key is null', empty, { op: 'get', key: 'k' }, { op: 'get', value: null }, true, empty],
    ['get of a wrong value', withA, { op: 'get', key: 'k' }, { op: 'get', value: 'b' }, false, withA],
    [
      'delete of a present key',
      withA,
      { op: 'delete', key: 'k' },
      { op: 'delete', deleted: true },
      true,
      empty,
    ],
    [
      'delete of an absent key',
      empty,
      { op: 'delete', key: 'k' },
      { op: 'delete', deleted: false },
      true,
      empty,
    ],
    [
      'delete claiming a deletion',
      empty,
      { op: 'delete', key: 'k' },
      { op: 'delete', deleted: true },
      false,
      empty,
    ],
    [
      'cas that matches',
      withA,
      { op: 'cas', key: 'k', expected: 'a', value: 'b' },
      { op: 'cas', succeeded: true },
      true,
      new Map([['k', 'b']]),
    ],
    [
      'cas that does not match',
      withA,
      { op: 'cas', key: 'k', expected: 'z', value: 'b' },
      { op: 'cas', succeeded: false },
      true,
      withA,
    ],
    [
      'cas expecting absence',
      empty,
      { op: 'cas', key: 'k', expected: null, value: 'b' },
      { op: 'cas', succeeded: true },
      true,
      new Map([['k', 'b']]),
    ],
    [
      'cas wrongly succeeding',
      withA,
      { op: 'cas', key: 'k', expected: null, value: 'b' },
      { op: 'cas', succeeded: true },
      false,
      withA,
    ],
    ['unknown put applies', empty, { op: 'put', key: 'k', value: 'a' }, undefined, true, withA],
    ['unknown get is ok', withA, { op: 'get', key: 'k' }, undefined, true, withA],
    [
      'unknown cas succeeds if it can',
      withA,
      { op: 'cas', key: 'k', expected: 'a', value: 'b' },
      undefined,
      true,
      new Map([['k', 'b']]),
    ],
    [
      'unknown cas fails if it must',
      withA,
      { op: 'cas', key: 'k', expected: 'z', value: 'b' },
      undefined,
      true,
      withA,
    ],
    ['an output of another kind', withA, { op: 'get', key: 'k' }, { op: 'put' }, false, withA],
  ])('%s', (_name, state, input, output, ok, after) => {
    const result = kvModel.step(state, input, output);
    expect(result.ok).toBe(ok);
    expect(kvModel.equal(result.state, after)).toBe(true);
  });

  test('never mutates the given state', () => {
    const state = new Map([['k', 'a']]);
    kvModel.step(state, { op: 'put', key: 'k', value: 'b' }, { op: 'put' });
    kvModel.step(state, { op: 'delete', key: 'k' }, { op: 'delete', deleted: true });
    expect([...state]).toEqual([['k', 'a']]);
  });
});

describe('kvModel.equal and hash', () => {
  test('equal states hash equally regardless of insertion order', () => {
    const a = new Map([
      ['x', '1'],
      ['y', '2'],
    ]);
    const b = new Map([
      ['y', '2'],
      ['x', '1'],
    ]);
    expect(kvModel.equal(a, b)).toBe(true);
    expect(kvModel.hash(a)).toBe(kvModel.hash(b));
  });

  test('different states are unequal and (here) hash differently', () => {
    const states: KvState[] = [
      empty,
      withA,
      new Map([['k', 'b']]),
      new Map([['j', 'a']]),
      new Map([
        ['k', 'a'],
        ['j', 'a'],
      ]),
    ];
    for (const a of states) {
      for (const b of states) expect(kvModel.equal(a, b)).toBe(a === b);
    }
    expect(new Set(states.map((s) => kvModel.hash(s))).size).toBe(states.length);
  });
});

describe('kvModel.partition', () => {
  test('one part per key, in first-seen order, keeping operation order', () => {
    const ops: Operation<KvInput, KvOutput>[] = ['a', 'b', 'a', 'c', 'b'].map((key, i) => ({
      client: i,
      input: { op: 'get', key },
      call: i,
    }));
    const parts = kvModel.partition!(ops);
    expect(parts.map((part) => part.map((op) => op.client))).toEqual([[0, 2], [1, 4], [3]]);
    expect(parts.map((part) => kvModel.partitionKey!(part))).toEqual(['a', 'b', 'c']);
  });
});

describe('kvModel.canonicalize', () => {
  test('values nobody observes become one placeholder; observed ones stay', () => {
    const ops: Operation<KvInput, KvOutput>[] = [
      { client: 1, input: { op: 'put', key: 'k', value: 'seen' }, call: 0 },
      { client: 2, input: { op: 'put', key: 'k', value: 'lost1' }, call: 1 },
      { client: 3, input: { op: 'cas', key: 'k', expected: 'expected', value: 'lost2' }, call: 2 },
      { client: 4, input: { op: 'get', key: 'k' }, call: 3, output: { op: 'get', value: 'seen' }, return: 4 },
      { client: 5, input: { op: 'put', key: 'k', value: 'expected' }, call: 5 },
    ];
    const canonical = kvModel.canonicalize!(ops);
    expect(
      canonical.map((op) => (op.input.op === 'put' || op.input.op === 'cas' ? op.input.value : '-')),
    ).toEqual(['seen', '<unobserved>', '<unobserved>', '-', 'expected']);
    expect(canonical[3]).toBe(ops[3]);
  });

  test('the placeholder never collides with an observed value', () => {
    const ops: Operation<KvInput, KvOutput>[] = [
      { client: 1, input: { op: 'put', key: 'k', value: 'x' }, call: 0 },
      {
        client: 2,
        input: { op: 'get', key: 'k' },
        call: 1,
        output: { op: 'get', value: '<unobserved>' },
        return: 2,
      },
    ];
    const [put] = kvModel.canonicalize!(ops);
    expect(put!.input).toEqual({ op: 'put', key: 'k', value: '<unobserved>\0' });
  });
});

describe('kvModel.describe', () => {
  test.each<[KvInput, KvOutput | undefined, string]>([
    [{ op: 'put', key: 'k', value: 'a' }, { op: 'put' }, 'put("k", "a") -> ok'],
    [{ op: 'get', key: 'k' }, { op: 'get', value: null }, 'get("k") -> null'],
    [{ op: 'delete', key: 'k' }, { op: 'delete', deleted: false }, 'delete("k") -> not found'],
    [
      { op: 'cas', key: 'k', expected: null, value: 'b' },
      { op: 'cas', succeeded: true },
      'cas("k", null -> "b") -> succeeded',
    ],
    [{ op: 'put', key: 'k', value: 'a' }, undefined, 'put("k", "a") -> ? (unknown outcome)'],
  ])('%j %j', (input, output, text) => {
    expect(kvModel.describe(input, output)).toBe(text);
  });
});

describe('kvCodec', () => {
  test.each([
    [{ op: 'cas', key: 'k', expected: 3, value: 'v' }, /"expected" must be a string or null/],
    [{ op: 'get' }, /"key" must be a string/],
    [null, /expected a JSON object/],
  ])('rejects input %j', (raw, message) => {
    expect(() => kvCodec.input(raw)).toThrow(message);
  });

  test.each([
    [{ op: 'get', key: 'k' }, { op: 'get', value: 1 }, /"value" must be a string or null/],
    [{ op: 'delete', key: 'k' }, { op: 'delete' }, /"deleted" must be true or false/],
    [
      { op: 'cas', key: 'k', expected: null, value: 'v' },
      { op: 'cas', succeeded: 'yes' },
      /"succeeded" must be true/,
    ],
    [
      { op: 'put', key: 'k', value: 'v' },
      { op: 'get', value: null },
      /"op" "get" does not match the input's "put"/,
    ],
  ])('rejects output %j for input', (input, raw, message) => {
    expect(() => kvCodec.output(raw, kvCodec.input(input))).toThrow(message);
  });

  test('drops unknown fields', () => {
    expect(kvCodec.input({ op: 'get', key: 'k', extra: 1 })).toEqual({ op: 'get', key: 'k' });
  });
});

describe('kvModel.isReadOnly', () => {
  test('a read, a cas that failed, a delete that found nothing: never a change, wherever they fit', () => {
    expect(kvModel.isReadOnly!({ op: 'get', key: 'k' }, { op: 'get', value: 'a' })).toBe(true);
    const cas: KvInput = { op: 'cas', key: 'k', expected: 'a', value: 'a' };
    expect(kvModel.isReadOnly!(cas, { op: 'cas', succeeded: false })).toBe(true);
    expect(kvModel.isReadOnly!({ op: 'delete', key: 'k' }, { op: 'delete', deleted: false })).toBe(true);
  });

  test('a put may leave the state as it was but is still a write; so are a delete that deleted and a cas that succeeded', () => {
    expect(kvModel.isReadOnly!({ op: 'put', key: 'k', value: 'a' }, { op: 'put' })).toBe(false);
    expect(kvModel.isReadOnly!({ op: 'delete', key: 'k' }, { op: 'delete', deleted: true })).toBe(false);
    const cas: KvInput = { op: 'cas', key: 'k', expected: 'a', value: 'a' };
    expect(kvModel.isReadOnly!(cas, { op: 'cas', succeeded: true })).toBe(false);
  });
});

describe('kvModel.relax', () => {
  test('an unknown-outcome cas may as well be a put of its value; a read does nothing; the rest stay', () => {
    expect(kvModel.relax!({ op: 'cas', key: 'k', expected: 'a', value: 'b' })).toEqual({
      op: 'put',
      key: 'k',
      value: 'b',
    });
    expect(kvModel.relax!({ op: 'get', key: 'k' })).toBeNull();
    const put: KvInput = { op: 'put', key: 'k', value: 'a' };
    expect(kvModel.relax!(put)).toBe(put);
  });

  test('the relaxed input reaches every state the original can, from every state', () => {
    const states: KvState[] = [empty, withA, new Map([['k', 'b']])];
    const inputs: KvInput[] = [
      { op: 'cas', key: 'k', expected: 'a', value: 'b' },
      { op: 'cas', key: 'k', expected: null, value: 'a' },
      { op: 'get', key: 'k' },
      { op: 'delete', key: 'k' },
    ];
    for (const state of states) {
      for (const input of inputs) {
        const original = kvModel.step(state, input, undefined).state;
        const relaxed = kvModel.relax!(input);
        // An unknown-outcome operation may also never happen: the state as it was is always reachable.
        const reachable = relaxed === null ? [state] : [state, kvModel.step(state, relaxed, undefined).state];
        expect(reachable.some((s) => kvModel.equal(s, original))).toBe(true);
      }
    }
  });
});
