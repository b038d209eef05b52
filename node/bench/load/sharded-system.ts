// raftstore as a sharded cluster for the bench: `shards` Raft groups of 3 members on loopback (fsync on), sharing
// one keyspace. It knows each group's members and leader and the slot map, and places each group's leader on the
// member the other groups forward to, so that a forwarded write takes exactly one hop.
import { channelCredentials, PLAINTEXT } from '../../shared/security/transport-security.js';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { ClusterClient } from '../../shared/api/generated/raftstore/v1/cluster.js';
import { KVClient, type SlotMapResponse } from '../../shared/api/generated/raftstore/v1/kv.js';
import { LocalCluster, type LocalMember } from '../../src/local-cluster/local-cluster.js';
import type { KeyRouting } from './protocol.js';

export const MEMBERS_PER_SHARD = 3;

function unary<T>(call: (cb: (err: ServiceError | null, res: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));
}

export class ShardedRaftstore {
  private constructor(
    private readonly cluster: LocalCluster,
    readonly shards: number,
  ) {}

  static async start(options: {
    shards: number;
    compiled: boolean;
    logLevel: string;
    nodeArgs?: readonly string[];
    /** Election timeout; the tick (= heartbeat interval) is a tenth of it. Default: the node's defaults. */
    electionTimeoutMs?: number;
    startTimeoutMs: number;
  }): Promise<ShardedRaftstore> {
    const timing = options.electionTimeoutMs
      ? { tickMs: Math.max(1, Math.round(options.electionTimeoutMs / 10)), electionTicks: 10 }
      : {};
    const cluster = await LocalCluster.start({
      members: MEMBERS_PER_SHARD,
      shards: options.shards,
      compiled: options.compiled,
      fsync: true,
      logLevel: options.logLevel,
      startTimeoutMs: options.startTimeoutMs,
      ...timing,
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    });
    return new ShardedRaftstore(cluster, options.shards);
  }

  get logDir(): string {
    return this.cluster.baseDir;
  }

  pids(): number[] {
    return this.cluster.members.flatMap((m) => (m.process?.pid ? [m.process.pid] : []));
  }

  /** A shard's members in the order of its --shard-endpoints entry: other shards forward to the first one. */
  members(shard: number): LocalMember[] {
    return this.cluster.shardMembers(shard).map((name) => this.cluster.member(name));
  }

  static endpoint(m: Pick<LocalMember, 'clientPort'>): string {
    return `127.0.0.1:${m.clientPort}`;
  }

  /** Per shard, the member its members agree leads it. */
  async leaders(timeout_ms: number): Promise<LocalMember[]> {
    const deadline = Date.now() + timeout_ms;
    const out: LocalMember[] = [];
    for (let shard = 0; shard < this.shards; shard++) {
      const names = this.cluster.shardMembers(shard);
      for (;;) {
        const name = await this.cluster.waitForLeader(Math.max(1, deadline - Date.now()), names);
        const views = await Promise.all(names.map((n) => this.cluster.status(n, 500)));
        if (views.every((v) => v?.leader === name)) {
          out.push(this.cluster.member(name));
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`shard ${shard}: members did not agree on a leader; logs in ${this.logDir}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return out;
  }

  /**
   * Moves each shard's leadership to its first member, the one a member of another shard forwards a key to
   * (ShardForwarder starts with a shard's first endpoint): a forwarded write then costs one hop, not two.
   */
  async placeLeaders(timeout_ms: number): Promise<void> {
    const leaders = await this.leaders(timeout_ms);
    for (let shard = 0; shard < this.shards; shard++) {
      const want = this.members(shard)[0]!;
      if (leaders[shard]!.name === want.name) continue;
      const client = new ClusterClient(
        ShardedRaftstore.endpoint(leaders[shard]!),
        channelCredentials(PLAINTEXT, { watch: false }),
      );
      try {
        await unary((cb) =>
          client.transferLeadership(
            { shardId: shard, toMember: want.name },
            new Metadata(),
            { deadline: Date.now() + timeout_ms },
            cb,
          ),
        );
      } finally {
        client.close();
      }
    }
    const placed = await this.leaders(timeout_ms);
    const wrong = placed.filter((m, shard) => m.name !== this.members(shard)[0]!.name);
    if (wrong.length > 0)
      throw new Error(
        `leadership did not move to each shard's first member (leaders: ${placed.map((m) => m.name).join(', ')})`,
      );
  }

  /** The slot map: each shard's own slots, as one of its members reports them (exact for its own group). */
  async slotMap(timeout_ms: number): Promise<KeyRouting['ranges']> {
    const ranges: { start: number; end: number; shard: number }[] = [];
    for (let shard = 0; shard < this.shards; shard++) {
      const client = new KVClient(
        ShardedRaftstore.endpoint(this.members(shard)[0]!),
        channelCredentials(PLAINTEXT, { watch: false }),
      );
      try {
        const map = await unary<SlotMapResponse>((cb) =>
          client.slotMap({ shardId: shard }, new Metadata(), { deadline: Date.now() + timeout_ms }, cb),
        );
        ranges.push(...map.ranges.filter((r) => r.shard === shard));
      } finally {
        client.close();
      }
    }
    return ranges.sort((a, b) => a.start - b.start);
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }
}
