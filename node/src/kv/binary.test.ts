import { ByteReader, ByteWriter, KvCodecError } from './binary.js';

describe('ByteWriter / ByteReader', () => {
  it('round-trips every primitive, growing past the initial capacity', () => {
    const big = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const w = new ByteWriter(4)
      .u8(255)
      .bool(true)
      .u32(0xffff_ffff)
      .u64(Number.MAX_SAFE_INTEGER)
      .u64(0)
      .bytes(big)
      .string('héllo');
    const r = new ByteReader(w.finish(), 'test');
    expect(r.u8('a')).toBe(255);
    expect(r.bool('b')).toBe(true);
    expect(r.u32('c')).toBe(0xffff_ffff);
    expect(r.u64('d')).toBe(Number.MAX_SAFE_INTEGER);
    expect(r.u64('e')).toBe(0);
    expect(r.bytes('f')).toEqual(big);
    expect(r.string('g')).toBe('héllo');
    r.end();
  });

  it('refuses values it cannot encode exactly', () => {
    expect(() => new ByteWriter().u8(256)).toThrow(KvCodecError);
    expect(() => new ByteWriter().u32(-1)).toThrow(/u32 out of range/);
    expect(() => new ByteWriter().u64(2 ** 53)).toThrow(/u64 out of range/);
    expect(() => new ByteWriter().u64(1.5)).toThrow(/u64 out of range/);
  });

  it('reports truncation with the field name and offset', () => {
    const r = new ByteReader(Uint8Array.of(0, 0, 0, 9, 1, 2), 'thing');
    expect(() => r.bytes('payload')).toThrow('thing truncated at byte 4: payload needs 9 bytes, 2 left');
  });

  it('rejects non-boolean bytes, oversized u64, invalid UTF-8, impossible counts and trailing bytes', () => {
    expect(() => new ByteReader(Uint8Array.of(2), 't').bool('flag')).toThrow(/flag is 2, not a boolean/);
    expect(() => new ByteReader(Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0), 't').u64('n')).toThrow(
      /exceeds 2\^53/,
    );
    expect(() => new ByteReader(Uint8Array.of(0, 0, 0, 1, 0xff), 't').string('s')).toThrow(/not valid UTF-8/);
    expect(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 't').count('items', 1)).toThrow(
      /cannot fit/,
    );
    const r = new ByteReader(Uint8Array.of(1, 2), 't');
    r.u8('x');
    expect(() => r.end()).toThrow(/1 unexpected trailing bytes/);
  });
});
