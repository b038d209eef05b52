import { KvCodecError } from './binary.js';
import { decodeResult, encodeResult } from './result-codec.js';
import { b } from '../../testing/kv/test-helpers.js';
import type { CommandResult, KeyValue } from './types.js';

const kv = (k: string, v: string): KeyValue => ({
  key: b(k),
  value: b(v),
  createRevision: 2,
  modRevision: 5,
  version: 3,
});

const results: readonly CommandResult[] = [
  { kind: 'put', revision: 1 },
  { kind: 'put', revision: 9, prevKv: kv('a', 'old') },
  { kind: 'delete', revision: 4, deleted: 2, prevKvs: [kv('a', '1'), kv('b', '')] },
  { kind: 'delete', revision: 5, deleted: 1, prevKvs: [], slotsServed: 2048 },
  {
    kind: 'txn',
    revision: 7,
    succeeded: true,
    responses: [
      { kind: 'put', revision: 7 },
      { kind: 'range', revision: 7, kvs: [kv('x', 'y')], more: true, count: 12 },
      { kind: 'delete', revision: 7, deleted: 0, prevKvs: [] },
    ],
  },
  { kind: 'sessionError', code: 'sessionUnknown', message: 'gone' },
  { kind: 'sessionError', code: 'resultEvicted', message: 'évicted' },
];

describe('result codec', () => {
  it.each(results.map((r) => [r.kind, r] as const))('round-trips a %s result', (_, result) => {
    expect(decodeResult(encodeResult(result))).toStrictEqual(result);
  });

  it('rejects truncations, trailing bytes and unknown kinds', () => {
    const bytes = encodeResult(results[3]!);
    for (let n = 0; n < bytes.length; n++)
      expect(() => decodeResult(bytes.subarray(0, n))).toThrow(KvCodecError);
    expect(() => decodeResult(Uint8Array.of(...bytes, 1))).toThrow(/trailing/);
    expect(() => decodeResult(Uint8Array.of(42))).toThrow(/unknown result kind 42/);
  });

  it('rejects a bare range result and a transaction nested in a transaction', () => {
    const range = encodeResult(results.find((r) => r.kind === 'txn')!).subarray(0); // txn bytes
    const nested = Uint8Array.of(4, ...new Uint8Array(8), 1, 0, 0, 0, 1, ...range);
    expect(() => decodeResult(nested)).toThrow(/cannot contain a txn result/);
    const bareRange = Uint8Array.of(3, ...new Uint8Array(8), 0, 0, 0, 0, 0, ...new Uint8Array(8));
    expect(() => decodeResult(bareRange)).toThrow(/range result outside a transaction/);
  });
});
