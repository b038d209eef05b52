// Keys and values are bytes, ordered bytewise (unsigned, shorter prefix first), as in etcd. Strings are accepted at
// the API edge for convenience and stored as their UTF-8 bytes, whose bytewise order is code-point order.

/** A key or value as callers may give it. */
export type BytesLike = Uint8Array | string;

const utf8 = new TextEncoder();

/** The bytes of `value`; a Uint8Array is copied so the store never aliases a buffer the caller may reuse. */
export function toBytes(value: BytesLike): Uint8Array {
  return typeof value === 'string' ? utf8.encode(value) : copyBytes(value);
}

/**
 * A copy of `bytes`. Never `bytes.slice()`: on a Buffer (what gRPC and file reads produce) that is a view sharing
 * memory, so it would neither protect the copy from later writes nor release the (possibly large) source.
 */
export function copyBytes(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

/** Negative, zero or positive as a sorts before, equal to or after b, comparing unsigned bytes. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

export function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/**
 * The smallest key greater than every key starting with `prefix`, or undefined when there is none (empty prefix or
 * all 0xff bytes): the end of the interval [prefix, prefixEnd) that a prefix scan covers.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] ?? 0;
    if (byte < 0xff) {
      // A copy, never a view: Buffer#slice (what gRPC decodes bytes into) shares memory, and incrementing a view
      // would rewrite the caller's prefix so the scan covered [end, end), always empty.
      const end = Uint8Array.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return undefined;
}

/** A short printable form for error messages: hex of the first 32 bytes and the total length. */
export function describeKey(key: Uint8Array): string {
  const shown = Array.from(key.subarray(0, 32), (byte) => byte.toString(16).padStart(2, '0')).join('');
  return key.length > 32 ? `0x${shown}… (${key.length} bytes)` : `0x${shown}`;
}
