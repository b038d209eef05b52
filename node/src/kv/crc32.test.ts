import { crc32 } from './crc32.js';

describe('crc32', () => {
  it('matches the catalogued CRC-32/ISO-HDLC check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('is 0 for no bytes and honours bounds', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    const padded = new TextEncoder().encode('xx123456789y');
    expect(crc32(padded, 2, 11)).toBe(0xcbf43926);
  });

  it('changes when any single bit flips', () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
    const base = crc32(data);
    for (let bit = 0; bit < data.length * 8; bit++) {
      const flipped = data.slice();
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(crc32(flipped)).not.toBe(base);
    }
  });
});
