// Slot-aware endpoint choice for the load workers, computed once per job so the hot loop does one array lookup:
// key index → the endpoint its requests go to, chosen among the endpoints the job allows for the key's shard.
import { keySlot, SLOT_COUNT } from '../../shared/sharding/slot.js';
import type { KeyRouting } from './protocol.js';

/** The bench's keys: 8 bytes, 'k' + 7 digits. */
export function keyOf(n: number): Buffer {
  return Buffer.from(`k${String(n).padStart(7, '0')}`, 'latin1');
}

/** Slot → shard from SlotMap ranges (inclusive ends); every slot must be covered exactly once. */
export function slotOwners(ranges: KeyRouting['ranges']): Uint32Array {
  const owners = new Uint32Array(SLOT_COUNT);
  const covered = new Uint8Array(SLOT_COUNT);
  for (const { start, end, shard } of ranges) {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end >= SLOT_COUNT || end < start)
      throw new Error(`slot range [${start}, ${end}] is not inside [0, ${SLOT_COUNT})`);
    for (let slot = start; slot <= end; slot++) {
      if (covered[slot] === 1) throw new Error(`slot ${slot} is in two ranges`);
      covered[slot] = 1;
      owners[slot] = shard;
    }
  }
  const missing = covered.indexOf(0);
  if (missing !== -1) throw new Error(`slot ${missing} is in no range`);
  return owners;
}

/**
 * For every key index below keySpace, the index (into the job's endpoints) of the endpoint its requests go to.
 * A key always goes to the same endpoint; keys of one shard are spread over that shard's allowed endpoints by key
 * index, so each endpoint gets an even share of the shard's keys.
 */
export function routeKeys(keySpace: number, routing: KeyRouting, endpointCount: number): Int32Array {
  if (!Number.isSafeInteger(keySpace) || keySpace < 1)
    throw new Error(`key space ${keySpace} is not positive`);
  const owners = slotOwners(routing.ranges);
  for (const [shard, allowed] of routing.endpointsByShard.entries())
    for (const e of allowed)
      if (!Number.isInteger(e) || e < 0 || e >= endpointCount)
        throw new Error(`shard ${shard}: endpoint index ${e} is not one of the job's ${endpointCount}`);
  const routes = new Int32Array(keySpace);
  for (let n = 0; n < keySpace; n++) {
    const shard = owners[keySlot(keyOf(n))]!;
    const allowed = routing.endpointsByShard[shard];
    if (allowed === undefined || allowed.length === 0)
      throw new Error(`key ${n} is in shard ${shard}, for which the job allows no endpoint`);
    routes[n] = allowed[n % allowed.length]!;
  }
  return routes;
}
