// Cheap, deterministic 32-bit hashes for the checker's memo cache. Collisions only cost a comparison, never a wrong
// answer, because cache hits are confirmed with Model.equal and a bitset comparison.

/** FNV-1a over UTF-16 code units. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A bijective avalanche mix of a 32-bit integer (the murmur3 finaliser). */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
