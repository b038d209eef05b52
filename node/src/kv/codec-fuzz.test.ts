// Decoders face bytes from disk and the network: whatever they are given, they must either return a value or throw
// KvCodecError (which callers handle), never a TypeError, RangeError or an out-of-memory allocation.

import { KvCodecError } from './binary.js';
import { decodeCommand, encodeCommand } from './command-codec.js';
import { crc32 } from './crc32.js';
import { decodeResult, encodeResult } from './result-codec.js';
import { seededRandom } from '../random/prng.js';
import { KvStateMachine } from './state-machine.js';
import { b, command, del, prefix, put } from '../../testing/kv/test-helpers.js';

function onlyCodecErrors(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof KvCodecError)) throw error;
  }
}

describe('decoders under random and mutated input', () => {
  const rng = seededRandom(2024);
  const randomBytes = (n: number): Uint8Array =>
    Uint8Array.from({ length: n }, () => Math.floor(rng() * 256));
  const mutate = (bytes: Uint8Array): Uint8Array => {
    const copy = bytes.slice();
    for (let flips = 1 + Math.floor(rng() * 3); flips > 0; flips--) {
      copy[Math.floor(rng() * copy.length)] = Math.floor(rng() * 256);
    }
    return copy;
  };

  const validCommand = encodeCommand(
    command(
      {
        kind: 'txn',
        compare: [{ key: b('k'), operator: 'equal', target: { kind: 'value', value: b('v') } }],
        success: [put('a', 'b', true), del(prefix('p'))],
        failure: [
          { kind: 'range', range: prefix(''), options: { limit: 5, keysOnly: false, countOnly: false } },
        ],
      },
      42,
      { clientId: 'c', sequence: 3 },
    ),
  );
  const validSetDataFormat = encodeCommand(command({ kind: 'setDataFormat', format: 2 }, 42));
  const validResult = encodeResult({
    kind: 'delete',
    revision: 3,
    deleted: 1,
    prevKvs: [{ key: b('a'), value: b('b'), createRevision: 1, modRevision: 2, version: 2 }],
  });

  it('command decoder', () => {
    for (let i = 0; i < 3000; i++) {
      onlyCodecErrors(() => decodeCommand(randomBytes(Math.floor(rng() * 64))));
      onlyCodecErrors(() => decodeCommand(mutate(validCommand)));
      onlyCodecErrors(() => decodeCommand(mutate(validSetDataFormat)));
    }
  });

  it('result decoder', () => {
    for (let i = 0; i < 3000; i++) {
      onlyCodecErrors(() => decodeResult(randomBytes(Math.floor(rng() * 64))));
      onlyCodecErrors(() => decodeResult(mutate(validResult)));
    }
  });

  it('snapshot restore', () => {
    const sm = new KvStateMachine();
    sm.apply(1, command(put('a', '1'), 5, { clientId: 'c', sequence: 1 }));
    sm.apply(2, command(put('b', '2'), 6, { clientId: 'd', sequence: 1 }));
    sm.apply(3, command(put('a', '3', true), 7, { clientId: 'c', sequence: 2 }));
    const valid = sm.snapshot();
    // The same state compressed (snapshot format 4): mutations reach the inflater, and what it inflates to.
    sm.apply(4, command({ kind: 'setDataFormat', format: 2 }, 8));
    const compressed = sm.snapshot();
    // With the checksum fixed up after mutating, so the decoder behind it is exercised too.
    const resealed = (bytes: Uint8Array): Uint8Array => {
      const body = mutate(bytes.subarray(0, bytes.length - 4));
      const out = new Uint8Array(bytes.length);
      out.set(body);
      new DataView(out.buffer).setUint32(body.length, crc32(body));
      return out;
    };
    for (let i = 0; i < 1000; i++) {
      onlyCodecErrors(() => KvStateMachine.restore(randomBytes(Math.floor(rng() * 128))));
      onlyCodecErrors(() => KvStateMachine.restore(mutate(valid)));
      onlyCodecErrors(() => KvStateMachine.restore(resealed(valid)));
      onlyCodecErrors(() => KvStateMachine.restore(mutate(compressed)));
      onlyCodecErrors(() => KvStateMachine.restore(resealed(compressed)));
    }
  });
});
