// ForceNewCluster with real member processes: a 3-member group loses two members for good (killed, data deleted),
// the survivor cannot write, is asked to force a new cluster, exits (75) and is restarted as a supervisor would, with
// the same flags and data directory. It then leads a one-voter group with every acknowledged write, takes new writes,
// and grows again through the admin calls the operator uses (AddLearner, Promote). While the group has a leader the
// request is refused and changes nothing.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterClient } from '../../shared/api/generated/raftstore/v1/cluster.js';
import {
  MemberRole,
  type ForceNewClusterResponse,
  type StatusResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { ShardedKvClient } from '../../shared/client/sharded-kv-client.js';
import { LocalCluster } from '../local-cluster/local-cluster.js';
import { memberAdmin, until } from '../../testing/process/member-admin.js';
import { EXIT_FATAL, EXIT_RESTART } from './exit-codes.js';
import { FORCE_NEW_CLUSTER_MARKER, writeForceNewClusterMarker } from './force-new-cluster-marker.js';

const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

/** One admin call to one member, as the operator makes it: its own deadline, no failover. */
function admin<T>(
  cluster: LocalCluster,
  name: string,
  invoke: (c: ClusterClient, deadline: Date, cb: (err: ServiceError | null, res: T) => void) => void,
): Promise<T> {
  return memberAdmin(cluster, name, invoke, 5000);
}

const forceNewCluster = (
  cluster: LocalCluster,
  name: string,
  member = name,
): Promise<ForceNewClusterResponse> =>
  admin(cluster, name, (c, deadline, cb) =>
    c.forceNewCluster({ shardId: 0, member }, new Metadata(), { deadline }, cb),
  );

const statusOf = (cluster: LocalCluster, name: string): Promise<StatusResponse> =>
  admin(cluster, name, (c, deadline, cb) => c.status({ shardId: 0 }, new Metadata(), { deadline }, cb));

const failure = (p: Promise<unknown>): Promise<ServiceError> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: ServiceError) => err,
  );

async function withCluster(run: (cluster: LocalCluster) => Promise<void>): Promise<void> {
  const cluster = await LocalCluster.start({ members: 3, fsync: false, logLevel: 'info' });
  try {
    await run(cluster);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await cluster.diagnose(8)}`);
  } finally {
    await cluster.killAll();
    await rm(cluster.baseDir, { recursive: true, force: true });
  }
}

test('ForceNewCluster is refused while the group has a leader, and changes nothing', async () => {
  await withCluster(async (cluster) => {
    const leader = await cluster.waitForLeader(30_000);
    const follower = cluster.members.map((m) => m.name).find((n) => n !== leader)!;
    // The follower must know the leader: it refuses because it heard from it, not because it knows nobody.
    await until(
      'the follower to know the leader',
      async () => ((await statusOf(cluster, follower)).leader === leader ? true : undefined),
      10_000,
    );

    const byLeader = await failure(forceNewCluster(cluster, leader));
    expect(byLeader.code).toBe(status.FAILED_PRECONDITION);
    expect(byLeader.details).toMatch(
      new RegExp(
        `^this member leads shard 0 in term \\d+: the group has a quorum; forcing a new cluster would fork it$`,
      ),
    );
    const byFollower = await failure(forceNewCluster(cluster, follower));
    expect(byFollower.code).toBe(status.FAILED_PRECONDITION);
    expect(byFollower.details).toMatch(`this member follows leader ${leader} in term`);
    const wrongMember = await failure(forceNewCluster(cluster, follower, leader));
    expect(wrongMember).toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: `this member is ${follower}, not ${leader}; ask ${leader} itself`,
    });

    for (const m of cluster.members) {
      expect(existsSync(join(m.dataDir, FORCE_NEW_CLUSTER_MARKER))).toBe(false);
      expect(m.process).toBeDefined();
    }
    const kv = new ShardedKvClient(cluster.endpoints());
    try {
      await kv.put('after-refusal', 'still-writable');
      expect(dec((await kv.get('after-refusal'))?.value)).toBe('still-writable');
    } finally {
      kv.close();
    }
    expect((await statusOf(cluster, leader)).voters).toHaveLength(3);

    // A marker in a directory without a log (a fresh member) has nothing to keep: the member refuses to start.
    const fresh = join(cluster.baseDir, 'm3');
    await mkdir(fresh, { recursive: true });
    await writeForceNewClusterMarker(fresh, {
      requestedAt: new Date().toISOString(),
      commit: 5,
      lastIndex: 5,
      lastLogTerm: 2,
    });
    const joiner = await cluster.startJoiner('m3');
    await until('the fresh member to exit', () => Promise.resolve(joiner.lastExit), 30_000);
    expect(joiner.lastExit).toBe(`exit ${EXIT_FATAL}`);
    expect(await readFile(joiner.logFile, 'utf8')).toContain(
      `${join(fresh, FORCE_NEW_CLUSTER_MARKER)} asks to keep this member's data as a new cluster, but the data directory holds no log: there is nothing to keep; delete the marker to start as a new member`,
    );
  });
}, 120_000);

test('a survivor of a permanent quorum loss keeps its data as a one-voter group, takes writes and grows again', async () => {
  await withCluster(async (cluster) => {
    // The leader is the most up-to-date member: the one an operator would pick (highest last log term and index).
    const survivor = await cluster.waitForLeader(30_000);
    const lost = cluster.members.map((m) => m.name).filter((n) => n !== survivor);
    const kv = new ShardedKvClient(cluster.endpoints());
    const keys = Array.from({ length: 20 }, (_, i) => `before/${i}`);
    try {
      for (const k of keys) await kv.put(k, `value of ${k}`);
    } finally {
      kv.close();
    }

    for (const name of lost) {
      await cluster.signal(name, 'SIGKILL');
      await rm(cluster.member(name).dataDir, { recursive: true, force: true });
    }
    // Without a quorum nothing commits: the write is refused or times out, and is never acknowledged.
    const stranded = new ShardedKvClient([`127.0.0.1:${cluster.member(survivor).clientPort}`], 1500);
    try {
      await expect(stranded.put('during-outage', 'never acknowledged')).rejects.toBeDefined();
    } finally {
      stranded.close();
    }
    // Once the survivor stops believing in a leader (checkQuorum makes a leader step down), it may be forced.
    const before = await until(
      'the survivor to know no leader',
      async () => {
        const st = await statusOf(cluster, survivor);
        return st.leader === '' ? st : undefined;
      },
      20_000,
    );
    expect(before.lastLogTerm).toBeGreaterThan(0);
    expect(before.lastLogTerm).toBeLessThanOrEqual(before.term);

    const exited = new Promise<number | null>((resolve) =>
      cluster.member(survivor).process!.once('exit', (code) => resolve(code)),
    );
    const kept = await forceNewCluster(cluster, survivor);
    expect(kept.commit).toBeGreaterThanOrEqual(keys.length);
    expect(kept.lastIndex).toBe(before.lastIndex);
    expect(kept.lastLogTerm).toBe(before.lastLogTerm);
    expect(kept.commit).toBeLessThanOrEqual(kept.lastIndex);
    expect(await exited).toBe(EXIT_RESTART);

    // What a supervisor does: start it again, same flags, same data directory.
    cluster.restart(survivor);
    await cluster.waitForLeader(30_000, [survivor]);
    const after = await statusOf(cluster, survivor);
    expect(after.role).toBe(MemberRole.MEMBER_ROLE_LEADER);
    expect(after.voters).toEqual([after.id]);
    expect(after.learners).toEqual([]);
    expect(existsSync(join(cluster.member(survivor).dataDir, FORCE_NEW_CLUSTER_MARKER))).toBe(false);

    const recovered = new ShardedKvClient([`127.0.0.1:${cluster.member(survivor).clientPort}`]);
    try {
      // The write first: this client library spends a session sequence on every call, reads included, and a
      // session's first write must carry sequence 1.
      await recovered.put('after', 'recovered');
      for (const k of keys) expect(dec((await recovered.get(k))?.value)).toBe(`value of ${k}`);
      expect(await recovered.get('during-outage')).toBeUndefined();
      expect(dec((await recovered.get('after'))?.value)).toBe('recovered');
    } finally {
      recovered.close();
    }

    // Growing again the operator's way: a fresh member joins as a learner and is promoted once caught up.
    const joiner = await cluster.startJoiner('m3');
    const joinerStatus = await until(
      'the new member to answer',
      () => statusOf(cluster, joiner.name).catch(() => undefined),
      30_000,
    );
    await admin(cluster, survivor, (c, deadline, cb) =>
      c.addLearner(
        {
          shardId: 0,
          name: joiner.name,
          id: joinerStatus.id,
          address: `127.0.0.1:${joiner.peerPort}`,
          incarnation: joinerStatus.incarnation,
          clientAddress: `127.0.0.1:${joiner.clientPort}`,
        },
        new Metadata(),
        { deadline },
        cb,
      ),
    );
    await until(
      'the learner to be promoted',
      () =>
        admin(cluster, survivor, (c, deadline, cb) =>
          c.promote({ shardId: 0, id: joinerStatus.id }, new Metadata(), { deadline }, cb),
        ).then(
          () => true,
          () => undefined,
        ),
      30_000,
    );
    const grown = await statusOf(cluster, survivor);
    expect([...grown.voters].sort()).toEqual([after.id, joinerStatus.id].sort());
    const viaJoiner = new ShardedKvClient([`127.0.0.1:${joiner.clientPort}`]);
    try {
      expect(dec((await viaJoiner.get('after'))?.value)).toBe('recovered');
      expect(dec((await viaJoiner.get(keys[0]!))?.value)).toBe(`value of ${keys[0]}`);
    } finally {
      viaJoiner.close();
    }
  });
}, 180_000);
