// The data format with real member processes: a two-member group raised to data format 2 (its peer asked over its
// peer address) writes compressed snapshots (format 4) and restarts from them; lowered to 1 before a downgrade,
// every member rewrites its snapshot in format 3 on its own, past the entry that lowered it, which is what a build
// from before data formats can start from (it reads the log only after its snapshot's index).
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterClient } from '../../shared/api/generated/raftstore/v1/cluster.js';
import {
  type SetDataFormatResponse,
  type SnapshotResponse,
  type StatusResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { ShardedKvClient } from '../../shared/client/sharded-kv-client.js';
import { decodeSnapshotEnvelope } from '../replica/snapshot-envelope.js';
import { decodeSnapshotFile } from '../storage/snapshot-codec.js';
import { LocalCluster } from '../local-cluster/local-cluster.js';
import { memberAdmin, until } from '../../testing/process/member-admin.js';

const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

/** One admin call to one member, as the operator makes it: its own deadline, no failover. */
function admin<T>(
  cluster: LocalCluster,
  name: string,
  invoke: (c: ClusterClient, deadline: Date, cb: (err: ServiceError | null, res: T) => void) => void,
): Promise<T> {
  return memberAdmin(cluster, name, invoke, 10000);
}

const setDataFormat = (cluster: LocalCluster, name: string, format: number): Promise<SetDataFormatResponse> =>
  admin(cluster, name, (c, deadline, cb) =>
    c.setDataFormat({ shardId: 0, format }, new Metadata(), { deadline }, cb),
  );

const statusOf = (cluster: LocalCluster, name: string): Promise<StatusResponse> =>
  admin(cluster, name, (c, deadline, cb) => c.status({ shardId: 0 }, new Metadata(), { deadline }, cb));

/** The newest snapshot file in the member's data directory: its index and its state machine's bytes. */
async function newestSnapshot(
  cluster: LocalCluster,
  name: string,
): Promise<{ index: number; machine: Uint8Array } | undefined> {
  const dir = join(cluster.member(name).dataDir, 'snap');
  const newest = (await readdir(dir))
    .filter((f) => f.endsWith('.snap'))
    .sort()
    .at(-1);
  if (newest === undefined) return undefined;
  const snapshot = decodeSnapshotFile(new Uint8Array(await readFile(join(dir, newest))));
  return { index: snapshot.metadata.index, machine: decodeSnapshotEnvelope(snapshot.data).machine };
}

/** Snapshot format and data format of a state machine's snapshot bytes (snapshot-codec.ts). */
const formats = (machine: Uint8Array): [number, number | undefined] => [
  machine[4]!,
  machine[4] === 4 ? machine[5] : undefined,
];

test('raised to data format 2 a group writes compressed snapshots and restarts from them; lowered, it writes format 3 again', async () => {
  const cluster = await LocalCluster.start({ members: 2, fsync: false, logLevel: 'info' });
  const names = cluster.members.map((m) => m.name);
  const kv = (): ShardedKvClient => new ShardedKvClient(cluster.endpoints());
  try {
    const writer = kv();
    const value = 'a value that compresses well '.repeat(40);
    try {
      for (let i = 0; i < 40; i++) await writer.put(`key/${i}`, `${i} ${value}`);
    } finally {
      writer.close();
    }
    for (const name of names) {
      expect(await statusOf(cluster, name)).toMatchObject({ dataFormat: 1, maxDataFormat: 2 });
    }

    // Raised through either member (a follower forwards); the other member is asked which formats it reads.
    const raised = await setDataFormat(cluster, names[1]!, 2);
    expect(raised).toMatchObject({ previous: 1, format: 2 });
    expect(raised.index).toBeGreaterThan(0);
    for (const name of names) {
      await until(
        `${name} to apply data format 2`,
        async () => ((await statusOf(cluster, name)).dataFormat === 2 ? true : undefined),
        10_000,
      );
      const taken = await admin<SnapshotResponse>(cluster, name, (c, deadline, cb) =>
        c.snapshot({ shardId: 0 }, new Metadata(), { deadline }, cb),
      );
      const onDisk = await newestSnapshot(cluster, name);
      expect(onDisk?.index).toBe(taken.index);
      expect(formats(onDisk!.machine)).toEqual([4, 2]);
      // 40 values of ~1.2 KB each: compressed, the snapshot is a fraction of them.
      expect(onDisk!.machine.length).toBeLessThan(10_000);
    }

    // Both stopped and started again on their data: each restores its state machine from the compressed snapshot.
    for (const name of names) expect(await cluster.signal(name, 'SIGTERM')).toBe(0);
    for (const name of names) cluster.restart(name);
    await cluster.waitForLeader(30_000);
    for (const name of names) {
      expect(await statusOf(cluster, name)).toMatchObject({ dataFormat: 2, maxDataFormat: 2 });
    }
    const reader = kv();
    try {
      expect(dec((await reader.get('key/7'))?.value)).toBe(`7 ${value}`);
    } finally {
      reader.close();
    }

    // Lowered before a downgrade: the answer comes once the leader's snapshot is rewritten; the follower rewrites
    // its own when it applies the entry. Each lands past the entry, so the entry is never read again at restart.
    const lowered = await setDataFormat(cluster, names[0]!, 1);
    expect(lowered).toMatchObject({ previous: 2, format: 1 });
    for (const name of names) {
      const onDisk = await until(
        `${name} to write a snapshot past the lowering entry`,
        async () => {
          const newest = await newestSnapshot(cluster, name);
          return newest !== undefined && newest.index >= lowered.index ? newest : undefined;
        },
        10_000,
      );
      expect(formats(onDisk.machine)).toEqual([3, undefined]);
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await cluster.diagnose(8)}`);
  } finally {
    await cluster.killAll();
    await rm(cluster.baseDir, { recursive: true, force: true });
  }
}, 120_000);
