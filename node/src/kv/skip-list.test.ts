import { compareBytes } from './bytes.js';
import { seededRandom } from '../random/prng.js';
import { SkipList } from './skip-list.js';

const key = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);

describe('SkipList', () => {
  it('matches a sorted-array model under a long random mix of operations', () => {
    const rng = seededRandom(42);
    const list = new SkipList<number>(seededRandom(7));
    const model = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      const k = Math.floor(rng() * 600);
      const r = rng();
      if (r < 0.55) {
        list.set(key(k), step);
        model.set(k, step);
      } else if (r < 0.85) {
        expect(list.delete(key(k))).toBe(model.delete(k));
      } else {
        expect(list.get(key(k))).toBe(model.get(k));
        expect(list.has(key(k))).toBe(model.has(k));
      }
      if (step % 2000 === 0) {
        const expected = [...model.entries()].sort((a, c) => a[0] - c[0]).map(([k2, v]) => [key(k2), v]);
        expect([...list.entries()]).toEqual(expected);
      }
    }
    expect(list.size).toBe(model.size);
  });

  it('iterates [start, end) in order, with either bound open', () => {
    const list = new SkipList<string>(seededRandom(1));
    for (const n of [5, 1, 9, 3, 7]) list.set(key(n), `v${n}`);
    const keys = (s?: number, e?: number): number[] =>
      [...list.entries(s === undefined ? undefined : key(s), e === undefined ? undefined : key(e))].map(
        ([k]) => ((k[0] ?? 0) << 8) | (k[1] ?? 0),
      );
    expect(keys()).toEqual([1, 3, 5, 7, 9]);
    expect(keys(3, 9)).toEqual([3, 5, 7]);
    expect(keys(4)).toEqual([5, 7, 9]);
    expect(keys(undefined, 5)).toEqual([1, 3]);
    expect(keys(10)).toEqual([]);
  });

  it('gives the same order whatever the coin flips', () => {
    const a = new SkipList<number>(seededRandom(1));
    const c = new SkipList<number>(() => 0); // every node at the maximum level
    const d = new SkipList<number>(() => 0.99); // a plain linked list
    for (let i = 0; i < 300; i++) {
      const k = Uint8Array.of((i * 37) % 256, i % 7);
      a.set(k, i);
      c.set(k, i);
      d.set(k, i);
    }
    const ordered = [...a.entries()];
    expect([...c.entries()]).toEqual(ordered);
    expect([...d.entries()]).toEqual(ordered);
    for (let i = 1; i < ordered.length; i++) {
      expect(
        compareBytes(ordered[i - 1]?.[0] ?? new Uint8Array(), ordered[i]?.[0] ?? new Uint8Array()),
      ).toBeLessThan(0);
    }
  });
});
