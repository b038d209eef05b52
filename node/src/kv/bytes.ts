// Keys and values are bytes, ordered bytewise (unsigned, shorter prefix first), as in etcd. Strings are accepted at
// the API edge for convenience and stored as their UTF-8 bytes, whose bytewise order is code-point order.

/** A key or value as callers may give it. */
export type BytesLike = Uint8Array | string;

const utf8 = new TextEncoder();

/** The bytes of `value`; a Uint8Array is copied so the store never aliases a buffer the caller may reuse. */
export function toBytes(value: BytesLike): Uint8Array {
  return typeof value === 'string' ? utf8.encode(value) : value.slice();
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
      const end = prefix.slice(0, i + 1);
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
