import { crc16 } from './crc16.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bit-at-a-time reference straight from the CRC definition, to check the table-driven version independently. */
function crc16Reference(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

describe('crc16 (XMODEM)', () => {
  it('matches the catalogued check value for "123456789"', () => {
    expect(crc16(ascii('123456789'))).toBe(0x31c3);
  });

  it('is 0 for no bytes', () => {
    expect(crc16(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the bit-at-a-time definition on every single byte and on longer inputs', () => {
    for (let b = 0; b < 256; b++) expect(crc16(Uint8Array.of(b))).toBe(crc16Reference(Uint8Array.of(b)));
    const long = Uint8Array.from({ length: 1000 }, (_, i) => (i * 131 + 7) & 0xff);
    expect(crc16(long)).toBe(crc16Reference(long));
  });

  it('hashes only [start, end) when given bounds', () => {
    const bytes = ascii('xx123456789yy');
    expect(crc16(bytes, 2, 11)).toBe(0x31c3);
  });
});
