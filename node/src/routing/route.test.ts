import { keySlot } from '../../shared/sharding/slot.js';
import { operationSlots } from '../kv/operation-slots.js';
import type { ClientOperation, PutOp } from '../kv/types.js';
import { decideRoute, type RouteInput } from './route.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const put = (key: string): PutOp => ({
  kind: 'put',
  key: enc(key),
  value: enc('v'),
  prevKv: false,
});

/** Shard 0 of two: serves the slots below 2048, believes shard 1 serves the rest. */
function input(op: ClientOperation, overrides: Partial<RouteInput> = {}): RouteInput {
  return {
    ownShard: 0,
    explicitShard: undefined,
    slots: operationSlots(op),
    servesEverySlot: false,
    serves: (slot) => slot < 2048,
    ownerOf: (slot) => (slot < 2048 ? 0 : 1),
    canReach: () => true,
    hops: 0,
    maxHops: 2,
    ...overrides,
  };
}

/** A key whose slot is on the given side of 2048. */
function keyIn(low: boolean, tag = ''): string {
  for (let i = 0; ; i++) {
    const key = `${tag}k${i}`;
    if (keySlot(key) < 2048 === low) return key;
  }
}

describe('decideRoute', () => {
  test('a key of a slot this group serves runs here; another goes to its owner', () => {
    expect(decideRoute(input(put(keyIn(true))))).toEqual({ kind: 'local' });
    expect(decideRoute(input(put(keyIn(false))))).toEqual({ kind: 'forward', shard: 1 });
  });

  test('hops are bounded: a request forwarded maxHops times is refused, not forwarded again', () => {
    expect(decideRoute(input(put(keyIn(false)), { hops: 1 }))).toEqual({ kind: 'forward', shard: 1 });
    expect(decideRoute(input(put(keyIn(false)), { hops: 2 }))).toMatchObject({
      kind: 'refuse',
      reason: 'tooManyHops',
    });
  });

  test('without an address for the owner (routing off), the group’s own fence answers with its redirect', () => {
    expect(decideRoute(input(put(keyIn(false)), { canReach: () => false }))).toEqual({ kind: 'local' });
  });

  test('an explicit shard goes there once; a forwarded one that lands on another shard is misrouted', () => {
    expect(decideRoute(input(put(keyIn(false)), { explicitShard: 0 }))).toEqual({ kind: 'local' });
    expect(decideRoute(input(put(keyIn(true)), { explicitShard: 1 }))).toEqual({ kind: 'forward', shard: 1 });
    expect(decideRoute(input(put(keyIn(true)), { explicitShard: 1, hops: 1 }))).toMatchObject({
      kind: 'refuse',
      reason: 'misrouted',
    });
  });

  test('a transaction across slots is refused naming its keys; one hash tag keeps it in one slot', () => {
    const a = keyIn(true);
    const b = keyIn(false);
    const txn: ClientOperation = {
      kind: 'txn',
      compare: [],
      success: [put(a), put(b)],
      failure: [],
    };
    const route = decideRoute(input(txn));
    expect(route).toMatchObject({ kind: 'refuse', reason: 'crossSlot' });
    if (route.kind === 'refuse') {
      expect(route.message).toContain(`"${a}" (slot ${keySlot(a)})`);
      expect(route.message).toContain(`"${b}" (slot ${keySlot(b)})`);
    }
    const tagged: ClientOperation = {
      kind: 'txn',
      compare: [],
      success: [put('{user:42}/a'), put('{user:42}/b')],
      failure: [],
    };
    const slot = keySlot('user:42');
    expect(decideRoute(input(tagged))).toEqual(
      slot < 2048 ? { kind: 'local' } : { kind: 'forward', shard: 1 },
    );
    // Also when the shard is named: whether it runs must not depend on today's layout.
    expect(decideRoute(input(txn, { explicitShard: 0 }))).toMatchObject({
      kind: 'refuse',
      reason: 'crossSlot',
    });
    // One shard serves everything: no refusal.
    expect(decideRoute(input(txn, { servesEverySlot: true }))).toEqual({ kind: 'local' });
  });

  test('a range over every slot is the client’s fan-out when sharded; a tagged prefix routes like a key', () => {
    const all: ClientOperation = {
      kind: 'delete',
      range: { kind: 'prefix', prefix: enc('') },
      prevKv: false,
    };
    expect(decideRoute(input(all))).toMatchObject({ kind: 'refuse', reason: 'spansShards' });
    expect(decideRoute(input(all, { servesEverySlot: true }))).toEqual({ kind: 'local' });
    const tagged: ClientOperation = {
      kind: 'delete',
      range: { kind: 'prefix', prefix: enc('{user:42}/') },
      prevKv: false,
    };
    expect(decideRoute(input(tagged)).kind).not.toBe('refuse');
  });
});
