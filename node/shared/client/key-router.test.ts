// The router's handling of a slot in motion: it waits and asks again within its budget, then gives up with the
// refusal; any other error is not retried here. A shard no member can reach sends it to the groups themselves.
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { KVService, type SlotMapRequest, type SlotMapResponse } from '../api/generated/raftstore/v1/kv.js';
import { keySlot } from '../sharding/slot.js';
import { FailoverClient } from './failover-client.js';
import { shardsToAsk } from './fan-out.js';
import { KeyRouter } from './key-router.js';
import { SHARD_UNREACHABLE_HEADER } from './shard-unreachable.js';

function refusal(code: status, redirect: object | undefined): ServiceError {
  const metadata = new Metadata();
  if (redirect !== undefined) metadata.set('x-raftstore-slot-redirect', JSON.stringify(redirect));
  const fields: Pick<ServiceError, 'code' | 'details' | 'metadata'> = { code, details: 'refused', metadata };
  return Object.assign(new Error('refused'), fields);
}

const MOVING = refusal(status.UNAVAILABLE, { slot: 1, epoch: 3, owner: 1, moving: true });

function router(budgetMs: number): { router: KeyRouter; slept: number[]; client: FailoverClient } {
  let clock = 0;
  const slept: number[] = [];
  // Never called: the map is given, and the calls below are the test's own.
  const client = new FailoverClient(['127.0.0.1:1'], 1000);
  const r = new KeyRouter(client, {
    movingBudgetMs: budgetMs,
    initialMap: [{ start: 0, end: 4095, shard: 0 }],
    now: () => clock,
    sleep: (ms) => {
      slept.push(ms);
      clock += ms;
      return Promise.resolve();
    },
  });
  return { router: r, slept, client };
}

test('a slot in motion is asked again with backoff until the move ends', async () => {
  const { router: r, slept, client } = router(10_000);
  let calls = 0;
  const result = await r.call('k', () => (++calls < 5 ? Promise.reject(MOVING) : Promise.resolve('ok')));
  expect(result).toBe('ok');
  expect(slept).toEqual([25, 50, 100, 200]);
  client.close();
});

test('a read takes no session sequence: a new client’s first write is still sequence 1', async () => {
  const { router: r, client } = router(1_000);
  expect(await r.read('k', (shard) => Promise.resolve(`read on ${shard}`))).toBe('read on 0');
  expect(await r.read('k', () => Promise.resolve('again'))).toBe('again');
  const sequences: number[] = [];
  await r.call('k', (_shard, header) => {
    sequences.push(header.sequence);
    return Promise.resolve();
  });
  await r.call('k', (_shard, header) => {
    sequences.push(header.sequence);
    return Promise.resolve();
  });
  expect(sequences).toEqual([1, 2]);
  client.close();
});

test('past its budget the call fails with the moving refusal', async () => {
  const { router: r, slept, client } = router(1_000);
  await expect(r.call('k', () => Promise.reject(MOVING))).rejects.toBe(MOVING);
  expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1_000);
  client.close();
});

test('an UNAVAILABLE without a moving redirect is not the router’s to retry', async () => {
  const { router: r, slept, client } = router(10_000);
  const down = refusal(status.UNAVAILABLE, undefined);
  await expect(r.call('k', () => Promise.reject(down))).rejects.toBe(down);
  expect(slept).toEqual([]);
  client.close();
});

describe('a hint that leads to a shard no member can reach', () => {
  // One member of shard 1 behind a real gRPC server. Shard 1 gave slots 0-2047 to shard 3 (its record still says
  // so); shard 3 later gave them to shard 2 and was retired: asking shard 3 answers "unreachable".
  const views = new Map<number, SlotMapResponse>([
    [
      1,
      view(1, [
        [0, 2047, 3],
        [2048, 4095, 1],
      ]),
    ],
    [
      2,
      view(2, [
        [0, 2047, 2],
        [2048, 4095, 1],
      ]),
    ],
    [
      0,
      view(0, [
        [0, 2047, 3],
        [2048, 4095, 1],
      ]),
    ],
  ]);
  let server: Server;
  let address: string;

  function view(shardId: number, ranges: [number, number, number][]): SlotMapResponse {
    return {
      header: undefined,
      epoch: 2,
      shardId,
      ranges: ranges.map(([start, end, shard]) => ({ start, end, shard })),
    };
  }

  beforeAll(async () => {
    server = new Server();
    server.addService(KVService, {
      slotMap: (
        call: ServerUnaryCall<SlotMapRequest, SlotMapResponse>,
        cb: sendUnaryData<SlotMapResponse>,
      ) => {
        const shard = call.request.shardId ?? 1;
        const answer = views.get(shard);
        if (answer !== undefined) return cb(null, answer);
        const metadata = new Metadata();
        metadata.set(SHARD_UNREACHABLE_HEADER, String(shard));
        cb({ code: status.UNAVAILABLE, details: `no member of shard ${shard} could be reached`, metadata });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => server.forceShutdown());

  test('the router asks every group who serves the slot now, and goes there', async () => {
    const client = new FailoverClient([address], 2000);
    try {
      const r = new KeyRouter(client);
      const asked: number[] = [];
      const gone = Object.assign(new Error('unreachable'), {
        code: status.UNAVAILABLE,
        details: 'no member of shard 3 could be reached',
        metadata: (() => {
          const m = new Metadata();
          m.set(SHARD_UNREACHABLE_HEADER, '3');
          return m;
        })(),
      });
      // "k1" hashes to a slot below 2048 (checked here), which the asked member's hints give to shard 3.
      expect(keySlot('k1')).toBeLessThan(2048);
      const result = await r.call('k1', (shard) => {
        asked.push(shard);
        return shard === 3 ? Promise.reject(gone) : Promise.resolve(`served by ${shard}`);
      });
      expect(result).toBe('served by 2');
      expect(asked).toEqual([3, 2]);
    } finally {
      client.close();
    }
  });

  test('discovery asks every shard id up to the highest named, and skips one no member can reach', async () => {
    const client = new FailoverClient([address], 2000);
    try {
      // Only the retired shard 3's view would name shard 2; ids are dense (shards 0..N-1), so 2 is asked anyway.
      expect(await shardsToAsk(client, true)).toEqual([0, 1, 2, 3]);
    } finally {
      client.close();
    }
  });
});
