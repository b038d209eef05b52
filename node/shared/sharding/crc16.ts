// CRC-16/XMODEM (polynomial 0x1021, initial value 0, no reflection, no final xor): the hash Redis Cluster uses for
// key slots. Chosen because it is well specified (check value 0x31C3 for "123456789"), cheap, and lets operators
// reason about placement with tools they already know (Redis's CLUSTER KEYSLOT gives crc16 mod 16384; ours is
// crc16 mod 4096, i.e. the low 12 bits of the same number).

const TABLE: Uint16Array = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[byte] = crc;
  }
  return table;
}

/** CRC-16/XMODEM of bytes[start, end). */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    // Indexes are in range by construction; `?? 0` only satisfies noUncheckedIndexedAccess.
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >>> 8) ^ (bytes[i] ?? 0)) & 0xff] ?? 0);
  }
  return crc;
}
