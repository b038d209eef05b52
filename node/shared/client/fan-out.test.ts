// The fan-out against a member whose view of the other groups is stale: after a reshard created shard 2 and gave it
// slots from shard 0 only, a shard-1 member's hints still split the keyspace between shards 0 and 1. The first
// pass covers too few slots; the next asks every group's own view, finds shard 2, and covers the keyspace.
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import {
  KVService,
  type KeyValue,
  type RangeRequest,
  type RangeResponse,
  type SlotMapRequest,
  type SlotMapResponse,
} from '../api/generated/raftstore/v1/kv.js';
import { FailoverClient } from './failover-client.js';
import { rangeEveryShard } from './fan-out.js';

const kv = (key: string): KeyValue => ({
  key: Buffer.from(key),
  value: Buffer.from('v'),
  createRevision: 1,
  modRevision: 1,
  version: 1,
});

/** Shard → [slots it serves, its keys]; after the reshard: 0 kept 1366, 1 kept 2048, 2 took 682 from 0. */
const GROUPS = new Map<number, [number, string[]]>([
  [0, [1366, ['a', 'd']]],
  [1, [2048, ['b']]],
  [2, [682, ['c']]],
]);
/** Each group's own view: exact for itself, and where the slots it gave away went. */
const VIEWS = new Map<number, { start: number; end: number; shard: number }[]>([
  [
    0,
    [
      { start: 0, end: 1365, shard: 0 },
      { start: 1366, end: 2047, shard: 2 },
      { start: 2048, end: 4095, shard: 1 },
    ],
  ],
  [
    1,
    [
      { start: 0, end: 2047, shard: 0 },
      { start: 2048, end: 4095, shard: 1 },
    ],
  ],
  [
    2,
    [
      { start: 0, end: 1365, shard: 0 },
      { start: 1366, end: 2047, shard: 2 },
      { start: 2048, end: 4095, shard: 1 },
    ],
  ],
]);

async function withMember(
  knowsOthers: boolean,
  test: (endpoint: string, slotMapCalls: (number | undefined)[]) => Promise<void>,
): Promise<void> {
  const calls: (number | undefined)[] = [];
  const server = new Server();
  server.addService(KVService, {
    slotMap: (
      call: { request: SlotMapRequest },
      cb: (e: ServiceError | null, r?: SlotMapResponse) => void,
    ) => {
      calls.push(call.request.shardId);
      // This member is in shard 1; asked for another group's view, it forwards (here: answers it) unless it cannot.
      const shard = call.request.shardId ?? 1;
      if (shard !== 1 && !knowsOthers) {
        cb({ code: status.FAILED_PRECONDITION, details: 'no route', message: 'no route' } as ServiceError);
        return;
      }
      cb(null, { header: undefined, epoch: 7, ranges: VIEWS.get(shard)!, shardId: shard });
    },
    range: (call: { request: RangeRequest }, cb: (e: ServiceError | null, r?: RangeResponse) => void) => {
      const [served, keys] = GROUPS.get(call.request.shardId ?? 1)!;
      cb(null, {
        header: undefined,
        kvs: keys.map(kv),
        more: false,
        count: keys.length,
        slotsServed: served,
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  try {
    await test(`127.0.0.1:${port}`, calls);
  } finally {
    server.forceShutdown();
  }
}

const request = {
  header: undefined,
  range: { kind: { $case: 'prefix' as const, prefix: new Uint8Array() } },
  limit: 0,
  keysOnly: false,
  countOnly: false,
  serializable: false,
};

test('a group the asked member does not know of is found through the other groups’ views', async () => {
  await withMember(true, async (endpoint, calls) => {
    const client = new FailoverClient([endpoint], 2000);
    try {
      const merged = await rangeEveryShard(client, request);
      expect(merged.kvs.map((x) => Buffer.from(x.key).toString())).toEqual(['a', 'b', 'c', 'd']);
      expect(merged.slotsServed).toBe(4096);
      // First pass: the member's own view only; then every group's view.
      expect(calls[0]).toBeUndefined();
      expect(calls.slice(1)).toEqual(expect.arrayContaining([undefined, 0, 2]));
    } finally {
      client.close();
    }
  });
});

test('when no view names the missing group, the fan-out fails clearly instead of returning a partial answer', async () => {
  await withMember(false, async (endpoint) => {
    const client = new FailoverClient([endpoint], 2000);
    try {
      await expect(rangeEveryShard(client, request)).rejects.toThrow(/no route/);
    } finally {
      client.close();
    }
  });
});
