// Two shards of real member processes sharing one keyspace: any member takes any key and routes it to the group
// that owns its slot; scans fan out over both groups and merge in key order; a transaction across slots is refused
// naming its keys, and a hash tag keeps related keys in one slot.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type {
  GetResponse,
  PutResponse,
  RangeResponse,
  SlotMapResponse,
  TxnResponse,
} from '../../shared/api/generated/raftstore/v1/kv.js';
import { FailoverClient, unary } from '../../shared/client/failover-client.js';
import { deleteEveryShard, rangeEveryShard, shardsOf } from '../../shared/client/fan-out.js';
import { KeyRouter } from '../../shared/client/key-router.js';
import { ShardedKvClient } from '../../shared/client/sharded-kv-client.js';
import { keySlot, SLOT_COUNT } from '../../shared/sharding/slot.js';
import { localClusterSuite } from '../../testing/process/local-cluster-suite.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const KEYS = 200;

const suite = localClusterSuite({ members: 1, shards: 2, fsync: false, logLevel: 'warn' });

/** A client that knows only one member. */
function via(name: string): FailoverClient {
  return new FailoverClient([`127.0.0.1:${suite().member(name).clientPort}`], 5000);
}

/** A put without a session: the member it reaches routes it by its key. */
function put(client: FailoverClient, key: string, value: string): Promise<PutResponse> {
  return client.kv((c, deadline) =>
    unary<PutResponse>((cb) =>
      c.put(
        { header: undefined, key: enc(key), value: enc(value), prevKv: false },
        new Metadata(),
        { deadline },
        cb,
      ),
    ),
  );
}

function get(client: FailoverClient, key: string, shardId?: number): Promise<GetResponse> {
  return client.kv((c, deadline) =>
    unary<GetResponse>((cb) =>
      c.get(
        { shardId, header: undefined, key: enc(key), serializable: false },
        new Metadata(),
        { deadline },
        cb,
      ),
    ),
  );
}

test('any member takes any key: writes through one shard’s member land in both groups, reads through the other', async () => {
  const a = via('m0');
  const b = via('s1m0');
  try {
    const map = await a.kv((c, deadline) =>
      unary<SlotMapResponse>((cb) => c.slotMap({}, new Metadata(), { deadline }, cb)),
    );
    expect(shardsOf(map)).toEqual([0, 1]);
    expect(map.ranges).toEqual([
      { start: 0, end: SLOT_COUNT / 2 - 1, shard: 0 },
      { start: SLOT_COUNT / 2, end: SLOT_COUNT - 1, shard: 1 },
    ]);
    // Another group's own view, through this member (a fan-out discovers groups this way): forwarded to shard 1.
    const other = await a.kv((c, deadline) =>
      unary<SlotMapResponse>((cb) => c.slotMap({ shardId: 1 }, new Metadata(), { deadline }, cb)),
    );
    expect(other.shardId).toBe(1);
    expect(map.shardId).toBe(0);
    for (let i = 0; i < KEYS / 2; i++) await put(a, `k/${String(i).padStart(3, '0')}`, `v${i}`);
    // With sessions: one per shard, each starting at sequence 1, the client naming the shard (the client library).
    const sharded = new ShardedKvClient([`127.0.0.1:${suite().member('s1m0').clientPort}`]);
    for (let i = KEYS / 2; i < KEYS; i++) await sharded.put(`k/${String(i).padStart(3, '0')}`, `v${i}`);
    sharded.close();
    // Each key answered by the member of the group that owns its slot.
    for (let i = 0; i < KEYS; i += 7) {
      const key = `k/${String(i).padStart(3, '0')}`;
      const res = await get(b, key);
      expect(dec(res.kv!.value)).toBe(`v${i}`);
      expect(res.header?.member).toBe(keySlot(key) < SLOT_COUNT / 2 ? 'm0' : 's1m0');
    }
    // Asked directly, a shard answers only for its own slots, with the redirect for the others.
    const elsewhere = [...Array(KEYS).keys()]
      .map((i) => `k/${String(i).padStart(3, '0')}`)
      .find((k) => keySlot(k) >= SLOT_COUNT / 2)!;
    const refused = await get(a, elsewhere, 0).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(refused?.code).toBe(status.FAILED_PRECONDITION);
    expect(refused?.metadata.get('x-raftstore-slot-redirect')[0]).toContain('"owner":1');
  } finally {
    a.close();
    b.close();
  }
}, 120_000);

test('a prefix read fans out over both shards and merges in key order; limit and coverage hold', async () => {
  const b = via('s1m0');
  try {
    const request = {
      header: undefined,
      range: { kind: { $case: 'prefix' as const, prefix: enc('k/') } },
      limit: 0,
      keysOnly: false,
      countOnly: false,
      serializable: false,
    };
    const all = await rangeEveryShard(b, request);
    expect(all.kvs.map((kv) => dec(kv.key))).toEqual(
      [...Array(KEYS).keys()].map((i) => `k/${String(i).padStart(3, '0')}`),
    );
    expect(all.count).toBe(KEYS);
    expect(all.slotsServed).toBe(SLOT_COUNT);
    const first = await rangeEveryShard(b, { ...request, limit: 10 });
    expect(first.kvs.map((kv) => dec(kv.key))).toEqual(all.kvs.slice(0, 10).map((kv) => dec(kv.key)));
    expect(first.more).toBe(true);
    // The same prefix sent as one routed request is refused: it spans both shards.
    const spanning = await b
      .kv((c, deadline) => unary<RangeResponse>((cb) => c.range(request, new Metadata(), { deadline }, cb)))
      .then(
        () => undefined,
        (e: ServiceError) => e,
      );
    expect(spanning?.code).toBe(status.INVALID_ARGUMENT);
    expect(spanning?.details).toContain('ask each shard');
  } finally {
    b.close();
  }
}, 120_000);

test('a transaction across slots is refused naming its keys; one hash tag keeps it atomic in one group', async () => {
  const a = via('m0');
  try {
    const router = new KeyRouter(a);
    const txn = (keys: string[]) =>
      router.call(keys[0]!, (shardId, header) =>
        a.kv((c, deadline) =>
          unary<TxnResponse>((cb) =>
            c.txn(
              {
                shardId,
                header,
                compare: [],
                success: keys.map((k) => ({
                  op: { $case: 'put' as const, put: { key: enc(k), value: enc('t'), prevKv: false } },
                })),
                failure: [],
              },
              new Metadata(),
              { deadline },
              cb,
            ),
          ),
        ),
      );
    const [x, y] = ['k/000', 'k/001'].sort((p, q) => keySlot(p) - keySlot(q));
    expect(keySlot(x!)).not.toBe(keySlot(y!));
    const refused = await txn([x!, y!]).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(refused?.code).toBe(status.INVALID_ARGUMENT);
    expect(refused?.details).toContain(`"${x}" (slot ${keySlot(x!)})`);
    const tagged = await txn(['{user:42}/a', '{user:42}/b']);
    expect(tagged.succeeded).toBe(true);
    expect(dec((await get(a, '{user:42}/b')).kv!.value)).toBe('t');
  } finally {
    a.close();
  }
}, 120_000);

test('a prefix delete fans out over both shards and removes every key', async () => {
  const a = via('m0');
  try {
    const res = await deleteEveryShard(
      a,
      { range: { kind: { $case: 'prefix', prefix: enc('k/') } }, prevKv: false },
      (shard) => a.nextHeader(shard),
    );
    expect(res.deleted).toBe(KEYS);
    const left = await rangeEveryShard(a, {
      header: undefined,
      range: { kind: { $case: 'prefix', prefix: enc('k/') } },
      limit: 0,
      keysOnly: true,
      countOnly: false,
      serializable: false,
    });
    expect(left.count).toBe(0);
  } finally {
    a.close();
  }
}, 120_000);
