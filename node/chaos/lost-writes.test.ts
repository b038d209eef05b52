// The checker side of chaos must be sharp: a lost acknowledged write is reported, legitimate outcomes are not.
import { checkLinearizable } from '../testing/lincheck/check.js';
import { kvModel } from '../testing/lincheck/kv-model.js';
import { findLostWrites, type KvOperation } from './lost-writes.js';

const put = (client: number, key: string, value: string, call: number, ret?: number): KvOperation =>
  ret === undefined
    ? { client, input: { op: 'put', key, value }, call }
    : { client, input: { op: 'put', key, value }, call, output: { op: 'put' }, return: ret };

describe('findLostWrites', () => {
  test('an acknowledged write missing after the restart is lost', () => {
    const history = [put(1, 'k', 'a', 0, 5), put(2, 'k', 'b', 10, 15)];
    const lost = findLostWrites(history, new Map([['k', 'a']]));
    expect(lost).toEqual([{ key: 'k', found: 'a', allowed: ['b'], acknowledged: 'b' }]);
  });

  test('a key that vanished after an acknowledged write is lost', () => {
    const lost = findLostWrites([put(1, 'k', 'a', 0, 5)], new Map([['k', null]]));
    expect(lost).toHaveLength(1);
    expect(lost[0]!.found).toBeNull();
  });

  test('a value nobody wrote is lost', () => {
    expect(findLostWrites([put(1, 'k', 'a', 0, 5)], new Map([['k', 'zzz']]))).toHaveLength(1);
  });

  test('concurrent acknowledged writes may end in either order', () => {
    const history = [put(1, 'k', 'a', 0, 10), put(2, 'k', 'b', 5, 12)];
    expect(findLostWrites(history, new Map([['k', 'a']]))).toEqual([]);
    expect(findLostWrites(history, new Map([['k', 'b']]))).toEqual([]);
  });

  test('a later write of unknown outcome may or may not be there', () => {
    const history = [put(1, 'k', 'a', 0, 5), put(2, 'k', 'u', 10)];
    expect(findLostWrites(history, new Map([['k', 'a']]))).toEqual([]);
    expect(findLostWrites(history, new Map([['k', 'u']]))).toEqual([]);
  });

  test('a timed-out write may overtake a later acknowledged one, a returned write may not', () => {
    // The timed-out write's return is +infinity, so it may still overtake the later acknowledged write.
    const history = [put(2, 'k', 'u', 0), put(1, 'k', 'a', 10, 15)];
    expect(findLostWrites(history, new Map([['k', 'u']]))).toEqual([]);
    const acknowledgedFirst = [put(2, 'k', 'u', 0, 3), put(1, 'k', 'a', 10, 15)];
    expect(findLostWrites(acknowledgedFirst, new Map([['k', 'u']]))).toHaveLength(1);
  });

  test('a successful cas counts as an acknowledged write, a failed one does not', () => {
    const history: KvOperation[] = [
      put(1, 'k', 'a', 0, 5),
      {
        client: 2,
        input: { op: 'cas', key: 'k', expected: 'a', value: 'b' },
        call: 6,
        output: { op: 'cas', succeeded: true },
        return: 8,
      },
      {
        client: 3,
        input: { op: 'cas', key: 'k', expected: 'x', value: 'c' },
        call: 9,
        output: { op: 'cas', succeeded: false },
        return: 11,
      },
    ];
    expect(findLostWrites(history, new Map([['k', 'b']]))).toEqual([]);
    expect(findLostWrites(history, new Map([['k', 'a']]))).toHaveLength(1);
    expect(findLostWrites(history, new Map([['k', 'c']]))).toHaveLength(1);
  });

  test('keys never acknowledged are not judged', () => {
    expect(findLostWrites([put(1, 'k', 'u', 0)], new Map([['k', null]]))).toEqual([]);
  });

  test('the linearizability checker also rejects a history whose final read lost a write', () => {
    const history = [
      put(1, 'k', 'a', 0, 5),
      put(2, 'k', 'b', 10, 15),
      {
        client: 9,
        input: { op: 'get' as const, key: 'k' },
        call: 20,
        output: { op: 'get' as const, value: 'a' },
        return: 21,
      },
    ];
    expect(checkLinearizable(kvModel, history).kind).toBe('violation');
  });
});
