import { bytesEqual, compareBytes, copyBytes, prefixEnd, startsWith, toBytes } from './bytes.js';

const b = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('bytes', () => {
  it('orders unsigned bytewise, a proper prefix first', () => {
    expect(compareBytes(b(1), b(2))).toBeLessThan(0);
    expect(compareBytes(b(0x7f), b(0x80))).toBeLessThan(0); // unsigned, not signed
    expect(compareBytes(b(1, 2), b(1))).toBeGreaterThan(0);
    expect(compareBytes(b(), b())).toBe(0);
    expect(bytesEqual(b(1, 2), b(1, 2))).toBe(true);
    expect(bytesEqual(b(1, 2), b(1, 3))).toBe(false);
  });

  it('encodes strings as UTF-8 and copies byte arrays', () => {
    expect(toBytes('é')).toEqual(b(0xc3, 0xa9));
    const source = b(1, 2);
    const copy = toBytes(source);
    source[0] = 9;
    expect(copy).toEqual(b(1, 2));
  });

  it('computes the end of a prefix scan', () => {
    expect(prefixEnd(b(1, 2))).toEqual(b(1, 3));
    expect(prefixEnd(b(1, 0xff))).toEqual(b(2));
    expect(prefixEnd(b(0xff, 0xff))).toBeUndefined();
    expect(prefixEnd(b())).toBeUndefined();
    expect(startsWith(b(1, 2, 3), b(1, 2))).toBe(true);
    expect(startsWith(b(1), b(1, 2))).toBe(false);
  });
});

describe('copies, not views', () => {
  test('prefixEnd of a Buffer leaves the prefix as it was (Buffer#slice is a view)', () => {
    const prefix = Buffer.from('k/');
    expect(Buffer.from(prefixEnd(prefix)!).toString()).toBe('k0');
    expect(prefix.toString()).toBe('k/');
  });

  test('copyBytes and toBytes of a Buffer do not share its memory', () => {
    const source = Buffer.from('abc');
    const copies = [copyBytes(source), toBytes(source), copyBytes(source, 1)];
    source[1] = 0x7a;
    expect(copies.map((c) => Buffer.from(c).toString())).toEqual(['abc', 'abc', 'bc']);
  });
});
