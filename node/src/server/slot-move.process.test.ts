// A slot move between two shards of real member processes (3 each), driven over the Cluster service's slot API by
// the coordinator loop the operator will run, while a client keeps writing through a member of the source shard
// with sessions and retries. Afterwards every acknowledged write is read back with its last value, the target serves
// the batch, and routing follows it (the client learns the new owner from a redirect).
import type { PutResponse } from '../../shared/api/generated/raftstore/v1/kv.js';
import { FailoverClient } from '../../shared/client/failover-client.js';
import { ShardedKvClient } from '../../shared/client/sharded-kv-client.js';
import { GrpcSlotGroups } from '../../shared/client/slot-groups-client.js';
import { driveMove, nextEpoch } from '../../shared/sharding/move-driver.js';
import { keySlot } from '../../shared/sharding/slot.js';
import { localClusterSuite } from '../../testing/process/local-cluster-suite.js';

const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const BATCH = Array.from({ length: 64 }, (_, i) => i); // shard 0's in the creation layout of two shards

const suite = localClusterSuite({ members: 3, shards: 2, fsync: false, logLevel: 'warn' });

function shardClient(shard: number): FailoverClient {
  return new FailoverClient(
    suite()
      .members.filter((m) => m.shard === shard)
      .map((m) => `127.0.0.1:${m.clientPort}`),
    5000,
  );
}

test('64 slots move from shard 0 to shard 1 under writes: nothing acknowledged is lost, routing follows', async () => {
  // A client that knows one member of the source shard (the client library: routes by slot, follows redirects).
  const kv = new ShardedKvClient([`127.0.0.1:${suite().member('m0').clientPort}`]);
  const admin = [shardClient(0), shardClient(1)];
  const put = (key: string, value: string): Promise<PutResponse> => kv.put(key, value);
  try {
    // Keys in the batch and outside it.
    const inBatch: string[] = [];
    const outside: string[] = [];
    for (let i = 0; inBatch.length < 40 || outside.length < 40; i++) {
      const k = `k${i}`;
      if (keySlot(k) < 64) {
        if (inBatch.length < 40) inBatch.push(k);
      } else if (outside.length < 40) outside.push(k);
    }
    const acknowledged = new Map<string, string>();
    for (const k of [...inBatch, ...outside]) {
      await put(k, `${k}@0`);
      acknowledged.set(k, `${k}@0`);
    }
    // A writer that keeps going through the move: every write it is told succeeded is recorded.
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      for (let round = 1; writing; round++) {
        for (const k of inBatch.slice(0, 10)) {
          const value = `${k}@${round}`;
          await put(k, value);
          acknowledged.set(k, value);
          writes++;
        }
      }
    })();
    const groups = new GrpcSlotGroups((shard) => admin[shard]!);
    const batch = { slots: BATCH, from: 0, to: 1 };
    const report = await driveMove(groups, batch, await nextEpoch(groups, batch));
    writing = false;
    await writer;
    process.stdout.write(
      `slot move: ${report.keysCopied} keys in ${report.pages} page(s); writes to the batch paused ${report.pauseMs} ms; ${writes} writes during the run\n`,
    );
    expect(report.keysCopied).toBeGreaterThanOrEqual(40);
    expect(writes).toBeGreaterThan(0);
    const status = await groups.status(1, [0, 63]);
    expect(status.records.map((r) => r.state)).toEqual(['owned', 'owned']);
    expect((await groups.status(0, [0])).records[0]!.state).toBe('absent');
    // Every acknowledged write, read back through the router (which learns the batch moved) with its last value.
    for (const [k, v] of acknowledged) {
      const got = await kv.get(k);
      expect(got === undefined ? undefined : dec(got.value)).toBe(v);
    }
    // And the fan-out still covers every slot exactly once.
    const all = await kv.prefix('k', 0, true);
    expect(all.count).toBe(acknowledged.size);
  } finally {
    kv.close();
    for (const a of admin) a.close();
  }
}, 180_000);
