// Differential test: the state machine against a naive model (a Map, sorted on every read) over long random
// histories. The model is written independently of the store's code paths, so a disagreement is a bug in one.

import { compareBytes } from './bytes.js';
import { seededRandom } from '../random/prng.js';
import { KvStateMachine } from './state-machine.js';
import { command } from '../../testing/kv/test-helpers.js';
import type { KeyRange, KeyValue, Operation } from './types.js';

class Model {
  readonly kvs = new Map<string, KeyValue>();
  revision = 0;

  private static id(key: Uint8Array): string {
    return Array.from(key).join(',');
  }

  inRange(range: KeyRange, key: Uint8Array): boolean {
    switch (range.kind) {
      case 'key':
        return compareBytes(key, range.key) === 0;
      case 'prefix':
        return key.length >= range.prefix.length && range.prefix.every((byte, i) => key[i] === byte);
      case 'interval':
        return (
          compareBytes(key, range.start) >= 0 && (range.end === undefined || compareBytes(key, range.end) < 0)
        );
    }
  }

  sorted(range: KeyRange): KeyValue[] {
    return [...this.kvs.values()]
      .filter((kv) => this.inRange(range, kv.key))
      .sort((a, c) => compareBytes(a.key, c.key));
  }

  apply(op: Operation): void {
    if (op.kind === 'put') {
      const previous = this.kvs.get(Model.id(op.key));
      this.revision++;
      this.kvs.set(Model.id(op.key), {
        key: op.key,
        value: op.value,
        createRevision: previous ? previous.createRevision : this.revision,
        modRevision: this.revision,
        version: previous ? previous.version + 1 : 1,
      });
    } else if (op.kind === 'delete') {
      const doomed = this.sorted(op.range);
      for (const kv of doomed) this.kvs.delete(Model.id(kv.key));
      if (doomed.length > 0) this.revision++;
    }
  }
}

describe('KvStateMachine vs model', () => {
  it.each([1, 2, 3])('agrees on every read over a random history (seed %i)', (seed) => {
    const rng = seededRandom(seed);
    const pick = (n: number): number => Math.floor(rng() * n);
    // A small alphabet with 0x00 and 0xff, so prefixes collide and prefixEnd carries.
    const randomKey = (): Uint8Array =>
      Uint8Array.from({ length: 1 + pick(3) }, () => [0x00, 0x61, 0x62, 0xff][pick(4)] ?? 0);
    const randomRange = (): KeyRange => {
      const r = rng();
      if (r < 0.3) return { kind: 'key', key: randomKey() };
      if (r < 0.6) return { kind: 'prefix', prefix: rng() < 0.1 ? new Uint8Array(0) : randomKey() };
      const [lo, hi] = [randomKey(), randomKey()].sort(compareBytes) as [Uint8Array, Uint8Array];
      return rng() < 0.2 ? { kind: 'interval', start: lo } : { kind: 'interval', start: lo, end: hi };
    };
    const sm = new KvStateMachine();
    const model = new Model();
    for (let i = 1; i <= 2000; i++) {
      const op: Operation =
        rng() < 0.7
          ? { kind: 'put', key: randomKey(), value: Uint8Array.of(pick(256)), prevKv: false }
          : { kind: 'delete', range: randomRange(), prevKv: false };
      sm.apply(i, command(op));
      model.apply(op);
      expect(sm.revision).toBe(model.revision);
      if (i % 10 === 0) {
        const range = randomRange();
        const limit = pick(4);
        const expected = model.sorted(range);
        const actual = sm.range(range, { limit, keysOnly: false, countOnly: false });
        expect(actual.count).toBe(expected.length);
        expect(actual.kvs).toEqual(limit === 0 ? expected : expected.slice(0, limit));
        expect(actual.more).toBe(limit !== 0 && expected.length > limit);
      }
    }
    expect(sm.keyCount).toBe(model.kvs.size);
  });
});
