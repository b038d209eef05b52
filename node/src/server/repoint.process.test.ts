// Why a group's record of a slot it gave away must be repointed before the group it names goes away, with real
// member processes: shard 0 gives slots to shard 2, shard 2 gives them on to shard 1, and shard 2's member then
// stops answering (as a retired group's last member does while it is torn down). A key of those slots sent to
// shard 0's member is routed by shard 0's record, to shard 2, and never answered; after the `repoint` step the same
// request reaches shard 1 and is served.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { GetResponse } from '../../shared/api/generated/raftstore/v1/kv.js';
import { FailoverClient, unary } from '../../shared/client/failover-client.js';
import { ShardedKvClient } from '../../shared/client/sharded-kv-client.js';
import { GrpcSlotGroups } from '../../shared/client/slot-groups-client.js';
import { driveMove, nextEpoch } from '../../shared/sharding/move-driver.js';
import { keySlot } from '../../shared/sharding/slot.js';
import { localClusterSuite } from '../../testing/process/local-cluster-suite.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const SLOTS = Array.from({ length: 16 }, (_, i) => 100 + i); // shard 0's in the creation layout of two shards

const suite = localClusterSuite({ members: 1, shards: 2, spareShards: 1, fsync: false, logLevel: 'warn' });

function client(name: string, timeoutMs: number): FailoverClient {
  return new FailoverClient([`127.0.0.1:${suite().member(name).clientPort}`], timeoutMs);
}

/** A read without a shard: the member routes it by its key. */
function get(c: FailoverClient, key: string): Promise<GetResponse> {
  return c.kv((kv, deadline) =>
    unary<GetResponse>((cb) =>
      kv.get({ header: undefined, key: enc(key), serializable: false }, new Metadata(), { deadline }, cb),
    ),
  );
}

test('a slot that moved on is served through the group that first gave it away only once its record is repointed', async () => {
  const cluster = suite();
  await cluster.waitForLeader(30_000, cluster.startShard(2));
  const admin = [0, 1, 2].map((shard) => client(cluster.shardMembers(shard)[0]!, 5000));
  const groups = new GrpcSlotGroups((shard) => admin[shard]!);
  const kv = new ShardedKvClient([`127.0.0.1:${cluster.member(cluster.shardMembers(0)[0]!).clientPort}`]);
  const viaShard0 = client(cluster.shardMembers(0)[0]!, 3000);
  const stopped = cluster.shardMembers(2)[0]!;
  try {
    let key = '';
    for (let i = 0; !SLOTS.includes(keySlot(key)); i++) key = `moved-on/${i}`;
    await kv.put(key, 'v1');
    const there = { slots: SLOTS, from: 0, to: 2 };
    await driveMove(groups, there, await nextEpoch(groups, there));
    const on = { slots: SLOTS, from: 2, to: 1 };
    const onEpoch = await nextEpoch(groups, on);
    await driveMove(groups, on, onEpoch);
    expect((await groups.status(0, [SLOTS[0]!])).records[0]).toMatchObject({ state: 'absent', peer: 2 });
    expect(dec((await get(viaShard0, key)).kv!.value)).toBe('v1'); // one hop more, while shard 2 answers

    await cluster.signal(stopped, 'SIGSTOP');
    const stale = await get(viaShard0, key).then(
      () => undefined,
      (err: ServiceError) => err,
    );
    expect(stale?.code).toBe(status.DEADLINE_EXCEEDED);

    expect(await groups.step(0, 'repoint', SLOTS, 1, onEpoch)).toEqual({ ok: true, reason: '' });
    expect((await groups.status(0, [SLOTS[0]!])).records[0]).toMatchObject({ state: 'absent', peer: 1 });
    expect(dec((await get(viaShard0, key)).kv!.value)).toBe('v1');
    // A slot the group serves is never repointed: the refusal says why and changes nothing.
    const refused = await groups.step(0, 'repoint', [0], 1, onEpoch);
    expect(refused).toEqual({
      ok: false,
      reason:
        'slot 0: cannot repoint a slot that is owned: only a slot this group gave away points elsewhere',
    });
  } finally {
    await cluster.signal(stopped, 'SIGCONT');
    kv.close();
    viaShard0.close();
    for (const a of admin) a.close();
  }
}, 120_000);
