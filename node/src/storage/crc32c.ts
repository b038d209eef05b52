// CRC-32C (Castagnoli), the checksum the WAL and snapshot files use. Castagnoli rather than the zlib CRC-32 because
// it has better error detection for the record sizes we write (and it is what etcd, RocksDB and iSCSI use), so the
// on-disk format stays checkable by standard tools. Table-driven, one byte per step: simple, and fast enough that
// checksumming is small next to an fsync.

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78;

const TABLE: Uint32Array = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * Extends a running CRC-32C over `bytes[start, end)`. Pass the result of a previous call as `crc` to checksum data
 * in pieces; start from 0. Returns an unsigned 32-bit value.
 */
export function crc32cUpdate(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (start < 0 || end > bytes.length || start > end) {
    throw new RangeError(`crc32c range [${start}, ${end}) is outside a buffer of ${bytes.length} bytes`);
  }
  let c = ~crc;
  for (let i = start; i < end; i++) {
    // The table has 256 entries and the index is masked to 8 bits, so the lookup is always defined.
    c = (c >>> 8) ^ TABLE[(c ^ bytes[i]!) & 0xff]!;
  }
  return ~c >>> 0;
}

/** CRC-32C of `bytes[start, end)`. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32cUpdate(0, bytes, start, end);
}
