// Key -> hash slot. The key space is cut into a fixed number of slots; shards own slots, never keys, so adding a
// shard later means moving whole slots (see shard-map.ts) without rehashing every key.

import { crc16 } from './crc16.js';

/** Fixed forever: changing it would move every key. A power of two so `crc16 mod SLOT_COUNT` is uniform. */
export const SLOT_COUNT = 4096;

const utf8 = new TextEncoder();

/** Strings are hashed as their UTF-8 bytes, the same bytes the store keeps and compares. */
export function keyBytes(key: Uint8Array | string): Uint8Array {
  return typeof key === 'string' ? utf8.encode(key) : key;
}

const OPEN_BRACE = 0x7b; // '{'
const CLOSE_BRACE = 0x7d; // '}'

/**
 * The part of the key that is hashed. Redis Cluster's hash-tag rule: if the key contains '{' followed later by '}'
 * with at least one byte between them, only the bytes between the first '{' and the next '}' are hashed. Keys
 * sharing a tag ("{user:42}/profile", "{user:42}/cart") land in one slot, so a transaction can span them.
 */
export function hashedPart(key: Uint8Array): { readonly start: number; readonly end: number } {
  const open = key.indexOf(OPEN_BRACE);
  if (open === -1) return { start: 0, end: key.length };
  const close = key.indexOf(CLOSE_BRACE, open + 1);
  if (close === -1 || close === open + 1) return { start: 0, end: key.length };
  return { start: open + 1, end: close };
}

/** The slot of a key, in [0, SLOT_COUNT). */
export function keySlot(key: Uint8Array | string): number {
  const bytes = keyBytes(key);
  const { start, end } = hashedPart(bytes);
  return crc16(bytes, start, end) & (SLOT_COUNT - 1);
}
