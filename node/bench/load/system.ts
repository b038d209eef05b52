// The two systems under test behind one interface, so every scenario is written once and runs on both.
import { channelCredentials, PLAINTEXT } from '../../shared/security/transport-security.js';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { ClusterClient } from '../../shared/api/generated/raftstore/v1/cluster.js';
import { LocalCluster } from '../../src/local-cluster/local-cluster.js';
import { EtcdCluster } from '../etcd/etcd-cluster.js';
import type { SystemName } from './protocol.js';

export interface SystemUnderTest {
  readonly name: SystemName;
  readonly logDir: string;
  /** Client endpoints (host:port) of running members. */
  endpoints(): string[];
  pids(): number[];
  /** Waits until all running members agree on a leader; returns its name. */
  leader(timeout_ms: number): Promise<string>;
  leaderEndpoint(timeout_ms: number): Promise<string>;
  signal(member: string, signal: NodeJS.Signals): Promise<void>;
  /** Restarts a stopped member and waits until it is back in a cluster with a leader. */
  restart(member: string, timeout_ms: number): Promise<void>;
  transferLeadership(timeout_ms: number): Promise<void>;
  stop(): Promise<void>;
}

export class RaftstoreSystem implements SystemUnderTest {
  readonly name = 'raftstore';
  constructor(private readonly cluster: LocalCluster) {}
  get logDir(): string {
    return this.cluster.baseDir;
  }
  static async start(options: {
    compiled: boolean;
    logLevel: string;
    nodeArgs?: readonly string[];
    /** Election timeout; the tick (= heartbeat interval) is a tenth of it. Default: the node's defaults. */
    electionTimeoutMs?: number;
  }): Promise<RaftstoreSystem> {
    const timing = options.electionTimeoutMs
      ? { tickMs: Math.max(1, Math.round(options.electionTimeoutMs / 10)), electionTicks: 10 }
      : {};
    return new RaftstoreSystem(
      await LocalCluster.start({
        members: 3,
        compiled: options.compiled,
        fsync: true,
        logLevel: options.logLevel,
        ...timing,
        ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
      }),
    );
  }
  endpoints(): string[] {
    return this.cluster.endpoints();
  }
  pids(): number[] {
    return this.cluster.members.flatMap((m) => (m.process?.pid ? [m.process.pid] : []));
  }
  async leader(timeout_ms: number): Promise<string> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      const name = await this.cluster.waitForLeader(Math.max(1, deadline - Date.now()));
      const running = this.cluster.members.filter((m) => m.process);
      const views = await Promise.all(running.map((m) => this.cluster.status(m.name, 500)));
      if (views.every((v) => v?.leader === name)) return name;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `raftstore: members did not agree on a leader within ${timeout_ms} ms; logs in ${this.logDir}`,
    );
  }
  async leaderEndpoint(timeout_ms: number): Promise<string> {
    return `127.0.0.1:${this.cluster.member(await this.leader(timeout_ms)).clientPort}`;
  }
  async signal(member: string, signal: NodeJS.Signals): Promise<void> {
    await this.cluster.signal(member, signal);
  }
  async restart(member: string, timeout_ms: number): Promise<void> {
    this.cluster.restart(member);
    await this.leader(timeout_ms);
  }
  async transferLeadership(timeout_ms: number): Promise<void> {
    const client = new ClusterClient(
      await this.leaderEndpoint(timeout_ms),
      channelCredentials(PLAINTEXT, { watch: false }),
    );
    await new Promise<void>((resolve, reject) =>
      client.transferLeadership(
        { shardId: 0, toMember: '' },
        new Metadata(),
        { deadline: Date.now() + timeout_ms },
        (err: ServiceError | null) => {
          client.close();
          if (err) reject(err);
          else resolve();
        },
      ),
    );
  }
  stop(): Promise<void> {
    return this.cluster.stop();
  }
}

export class EtcdSystem implements SystemUnderTest {
  readonly name = 'etcd';
  constructor(private readonly cluster: EtcdCluster) {}
  get logDir(): string {
    return this.cluster.baseDir;
  }
  static async start(options: { electionTimeoutMs?: number } = {}): Promise<EtcdSystem> {
    const e = options.electionTimeoutMs;
    const timing = e
      ? [`--election-timeout=${e}`, `--heartbeat-interval=${Math.max(1, Math.round(e / 10))}`]
      : [];
    return new EtcdSystem(await EtcdCluster.start(3, timing));
  }
  endpoints(): string[] {
    return this.cluster.endpoints();
  }
  pids(): number[] {
    return this.cluster.pids();
  }
  leader(timeout_ms: number): Promise<string> {
    return this.cluster.waitForLeader(timeout_ms);
  }
  async leaderEndpoint(timeout_ms: number): Promise<string> {
    return this.cluster.endpoint(await this.leader(timeout_ms));
  }
  signal(member: string, signal: NodeJS.Signals): Promise<void> {
    return this.cluster.signal(member, signal);
  }
  async restart(member: string, timeout_ms: number): Promise<void> {
    this.cluster.restart(member);
    await this.leader(timeout_ms);
  }
  transferLeadership(timeout_ms: number): Promise<void> {
    return this.cluster.transferLeadership(timeout_ms);
  }
  stop(): Promise<void> {
    return this.cluster.stop();
  }
}
