import { crc32c, crc32cUpdate } from './crc32c.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32c', () => {
  // Check values from RFC 3720 (iSCSI) appendix B.4 and the CRC catalogue's CRC-32/ISCSI entry.
  it('matches the standard check value for "123456789"', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 B.4 vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(crc32c(ascending)).toBe(0x46dd794e);
    const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    expect(crc32c(descending)).toBe(0x113fdb5c);
  });

  it('is 0 for empty input', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('gives the same result computed in pieces as in one pass', () => {
    const data = ascii('The quick brown fox jumps over the lazy dog');
    const whole = crc32c(data);
    for (let cut = 0; cut <= data.length; cut++) {
      expect(crc32cUpdate(crc32cUpdate(0, data, 0, cut), data, cut)).toBe(whole);
    }
  });

  it('checksums a sub-range without copying', () => {
    const data = ascii('xx123456789yy');
    expect(crc32c(data, 2, 11)).toBe(0xe3069283);
  });

  it('rejects a range outside the buffer', () => {
    expect(() => crc32c(new Uint8Array(4), 0, 5)).toThrow(RangeError);
    expect(() => crc32c(new Uint8Array(4), 3, 2)).toThrow(RangeError);
  });
});
