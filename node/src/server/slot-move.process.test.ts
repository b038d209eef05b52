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

test('a coordinator that takes over mid-copy sends only the keys after the copy cursor the target reports', async () => {
  const kv = new ShardedKvClient([`127.0.0.1:${suite().member('m0').clientPort}`]);
  const admin = [shardClient(0), shardClient(1)];
  const hex = (bytes: Uint8Array | undefined): string | undefined =>
    bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');
  try {
    const slots = Array.from({ length: 64 }, (_, i) => 64 + i); // still shard 0's: the test above moved 0..63
    const keys: string[] = [];
    for (let i = 0; keys.length < 30; i++) if (slots.includes(keySlot(`r${i}`))) keys.push(`r${i}`);
    for (const k of keys) await kv.put(k, `${k}@0`);
    const groups = new GrpcSlotGroups((shard) => admin[shard]!);
    const batch = { slots, from: 0, to: 1 };
    const epoch = await nextEpoch(groups, batch);
    // The first coordinator imports, freezes and ingests the first 10 keys of the export, then is gone.
    expect(await groups.step(1, 'import', slots, 0, epoch)).toMatchObject({ ok: true });
    expect(await groups.step(0, 'freeze', slots, 1, epoch)).toMatchObject({ ok: true });
    const page = await groups.exportPage(0, slots, epoch, undefined);
    if (!page.ok) throw new Error(page.reason);
    expect(page.kvs).toHaveLength(keys.length);
    const firstTen = page.kvs.slice(0, 10);
    expect(await groups.ingest(1, 0, epoch, firstTen, [], new Uint8Array(), undefined)).toMatchObject({
      ok: true,
    });
    // The target reports how far the copy has come, from its replicated state (a leader read).
    const [record] = (await groups.status(1, [slots[0]!])).records;
    expect(hex(record?.copyCursor)).toBe(hex(firstTen.at(-1)!.key));
    // The standby resumes at the same epoch: the other 20 keys travel, the first 10 do not travel again.
    const report = await driveMove(groups, batch, epoch);
    expect(report.keysCopied).toBe(keys.length - 10);
    expect((await groups.status(1, [slots[0]!])).records[0]).toMatchObject({ state: 'owned' });
    for (const k of keys) {
      const got = await kv.get(k);
      expect(got === undefined ? undefined : dec(got.value)).toBe(`${k}@0`);
    }
  } finally {
    kv.close();
    for (const a of admin) a.close();
  }
}, 180_000);
