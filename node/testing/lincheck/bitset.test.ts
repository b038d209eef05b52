import { Bitset } from './bitset.js';

describe('Bitset', () => {
  test('set, clear and has across word boundaries', () => {
    const bits = new Bitset(70);
    for (const bit of [0, 31, 32, 69]) bits.set(bit);
    expect([...Array(70).keys()].filter((b) => bits.has(b))).toEqual([0, 31, 32, 69]);
    bits.clear(31);
    expect(bits.has(31)).toBe(false);
    expect(bits.snapshot()).toEqual([1, 1, 32]);
  });

  test('the hash depends only on the members, not on the order of updates', () => {
    const a = new Bitset(100);
    const b = new Bitset(100);
    [3, 50, 99].forEach((bit) => a.set(bit));
    [99, 7, 3, 50].forEach((bit) => b.set(bit));
    b.clear(7);
    b.set(3); // setting twice changes nothing
    expect(a.hash).toBe(b.hash);
    b.clear(50);
    expect(a.hash).not.toBe(b.hash);
    b.clear(3);
    b.clear(99);
    expect(b.hash).toBe(new Bitset(100).hash);
  });

  test('range snapshots compare equal only on the same words', () => {
    const bits = new Bitset(128);
    bits.set(40);
    bits.set(100);
    const middle = bits.snapshot(1, 3);
    expect(middle).toEqual([1 << 8, 0]);
    expect(bits.equalsRange(middle, 1)).toBe(true);
    bits.set(70);
    expect(bits.equalsRange(middle, 1)).toBe(false);
  });

  test('includes is the subset test', () => {
    const bits = new Bitset(40);
    bits.set(1);
    bits.set(35);
    const empty = new Bitset(40).snapshot();
    const one = bits.snapshot();
    bits.clear(35);
    expect(bits.includes(empty)).toBe(true);
    expect(bits.includes(one)).toBe(false);
    bits.set(35);
    bits.set(2);
    expect(bits.includes(one)).toBe(true);
  });

  test('isSubsetOf is the converse', () => {
    const bits = new Bitset(40);
    bits.set(1);
    const small = bits.snapshot();
    bits.set(35);
    const large = bits.snapshot();
    expect(bits.isSubsetOf(large)).toBe(true);
    expect(bits.isSubsetOf(small)).toBe(false);
    bits.clear(35);
    expect(bits.isSubsetOf(large)).toBe(true);
    expect(bits.isSubsetOf(new Bitset(41).snapshot())).toBe(false); // another size
  });

  test('rejects bits out of range', () => {
    const bits = new Bitset(10);
    expect(() => bits.set(10)).toThrow('bit 10 outside bitset of size 10');
    expect(() => bits.clear(-1)).toThrow(RangeError);
    expect(() => new Bitset(-1)).toThrow('bitset size must be >= 0');
  });
});
