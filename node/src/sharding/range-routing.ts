// Which shards a multi-key read or delete must visit. Hashing scatters neighbouring keys over slots, so in general
// a prefix or an interval touches every shard (the caller fans out and merges in key order). The exception users
// can design for: a prefix that contains a complete hash tag ("{user:42}/") pins every key under it to one slot,
// because the hashed part of such a key is decided inside the prefix.

import type { ShardId, ShardMap } from '../../shared/sharding/shard-map.js';
import { hashedPart, keyBytes, keySlot } from '../../shared/sharding/slot.js';

/** The one slot every key with this prefix hashes to, or undefined if keys under it may land anywhere. */
export function prefixSlot(prefix: Uint8Array | string): number | undefined {
  const bytes = keyBytes(prefix);
  const { start, end } = hashedPart(bytes);
  // A tag was found iff the hashed part is not the whole key; it then closes inside the prefix, so any suffix
  // leaves the first '{' and the next '}' where they are.
  const tagged = !(start === 0 && end === bytes.length);
  return tagged ? keySlot(bytes) : undefined;
}

/** Shards holding keys that start with `prefix`, ascending. */
export function shardsForPrefix(map: ShardMap, prefix: Uint8Array | string): ShardId[] {
  const slot = prefixSlot(prefix);
  return slot === undefined ? map.shards() : [map.shardOfSlot(slot)];
}

/** Shards holding keys in [start, end): all of them, since hashing does not preserve order. */
export function shardsForInterval(map: ShardMap): ShardId[] {
  return map.shards();
}
