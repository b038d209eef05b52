import { Prng, randomInt, seededRandom } from './prng.js';

describe('Prng', () => {
  test('one seed gives one sequence; another seed another', () => {
    const draw = (seed: number): number[] => {
      const r = new Prng(seed);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  test('forked streams are reproducible and independent of later draws on the parent', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const fa = a.fork('net');
    const fb = b.fork('net');
    a.nextUint32();
    expect(fa.nextUint32()).toBe(fb.nextUint32());
    expect(new Prng(7).fork('net').nextUint32()).not.toBe(new Prng(7).fork('disk').nextUint32());
  });

  test('int stays in range and reaches both ends; float is in [0, 1)', () => {
    const r = new Prng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const n = r.int(3, 6);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(6);
      seen.add(n);
      const f = r.float();
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });

  test('rejects bad seeds and ranges with a clear error', () => {
    expect(() => new Prng(-1)).toThrow(/seed/);
    expect(() => new Prng(1).int(5, 4)).toThrow(/bad range/);
    expect(() => new Prng(1).pick([])).toThrow(/empty/);
  });
});

describe('seededRandom', () => {
  test('the same seed gives the same sequence, another seed another one', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(first);
  });

  test('randomInt covers its inclusive range and rejects an empty one', () => {
    const random = seededRandom(1);
    const seen = new Set(Array.from({ length: 200 }, () => randomInt(random, 3, 6)));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
    expect(() => randomInt(random, 2, 1)).toThrow('randomInt: empty range [2, 1]');
  });
});
