// Runs a cluster of real datastore processes on loopback: for `npm run cluster:local`, the chaos harness, the
// benchmark and multi-process tests. Each member is a separate OS process with its own data directory, so kill -9,
// SIGSTOP and restarts are real.
import {
  channelCredentials,
  PLAINTEXT,
  type TlsFiles,
  type TransportSecurity,
} from '../../shared/security/transport-security.js';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ClusterClient,
  MemberRole,
  type StatusResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { formatShardEndpoints } from '../../shared/config/shard-endpoints.js';
import { freePorts } from './free-port.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export interface LocalMember {
  readonly name: string;
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly httpPort: number;
  readonly logFile: string;
  process: ChildProcess | undefined;
  /** How its last process ended (exit code, or the signal that killed it); undefined while it never stopped. */
  lastExit?: string;
  /** How the member was first started: founders bootstrap, later members join. */
  readonly initialClusterState: 'new' | 'existing';
  /** The shard (Raft group) it serves. */
  readonly shard: number;
}

export interface LocalClusterOptions {
  /** Members of each shard. */
  readonly members: number;
  /**
   * Shards (Raft groups), each of `members` members, sharing one keyspace: every member routes keys to the others
   * (--shard-endpoints lists every member's client address). Default 1; members of shard k > 0 are named sKmI.
   */
  readonly shards?: number;
  /**
   * Shards a reshard will create later (ids `shards` .. `shards + spareShards - 1`, `members` each, default 0). Their
   * ports are taken now and listed in every member's --shard-endpoints, so that the members already running can route
   * to a new group the moment it exists: an explicit list is read once at start, and restarting members to extend it
   * would be a fault of its own. Their processes start only with startShard(), as founders of a group that owns no
   * slot (--bootstrap-shards stays `shards`).
   */
  readonly spareShards?: number;
  /** Where data directories and logs go; a fresh temp directory by default. */
  readonly baseDir?: string;
  readonly clusterId?: string;
  /** Run the compiled build (dist/, realistic CPU) instead of the TypeScript sources through tsx. */
  readonly compiled?: boolean;
  readonly fsync?: boolean;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly snapshotEntries?: number;
  readonly extraArgs?: readonly string[];
  /** Node runtime flags for every member, before the entry point (e.g. --cpu-prof --cpu-prof-dir=DIR). */
  readonly nodeArgs?: readonly string[];
  readonly logLevel?: string;
  /** How long start() waits for the founders to elect a leader. Default 30 s. */
  readonly startTimeoutMs?: number;
  /**
   * Mutual TLS: every member gets these files (one certificate for all, naming 127.0.0.1), and the cluster's own
   * probes present them too. Default plaintext.
   */
  readonly tls?: TlsFiles;
}

function entryArgs(compiled: boolean): string[] {
  if (compiled) {
    const main = join(REPO, 'dist/node/src/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
    return [main];
  }
  return ['--import', 'tsx', join(REPO, 'node/src/main.ts')];
}

/** The last `lines` lines of a log (its last 8 KiB), each cut to 300 characters; empty when there is no log. */
async function logTail(file: string, lines: number): Promise<string[]> {
  try {
    const text = await readFile(file, 'utf8');
    return text
      .slice(-8192)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines)
      .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  } catch {
    return [];
  }
}

export function clusterStatus(
  address: string,
  timeoutMs = 1000,
  shardId = 0,
  security: TransportSecurity = PLAINTEXT,
): Promise<StatusResponse> {
  const client = new ClusterClient(address, channelCredentials(security, { watch: false }));
  return new Promise<StatusResponse>((resolvePromise, reject) => {
    client.status(
      { shardId },
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, res: StatusResponse) => {
        client.close();
        if (err) reject(err);
        else resolvePromise(res);
      },
    );
  });
}

export class LocalCluster {
  readonly members: LocalMember[] = [];
  /** Every port handed to a member, ever: a port is reserved for good, since a restarted member binds it again. */
  private readonly ports = new Set<number>();

  private constructor(
    readonly baseDir: string,
    private readonly options: LocalClusterOptions,
  ) {}

  /**
   * Starts `members` founding members and waits until they elected a leader. If that fails, every member it
   * spawned is killed before the error is rethrown: a failed start leaves no processes behind.
   */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'raftstore-local-')));
    await mkdir(baseDir, { recursive: true });
    const cluster = new LocalCluster(baseDir, options);
    try {
      const shards = options.shards ?? 1;
      for (let shard = 0; shard < shards + (options.spareShards ?? 0); shard++) {
        for (let i = 0; i < options.members; i++) {
          const name = shard === 0 ? `m${i}` : `s${shard}m${i}`;
          cluster.members.push(await cluster.allocate(name, 'new', shard));
        }
      }
      for (const m of cluster.members) if (m.shard < shards) cluster.spawnMember(m);
      const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
      for (let shard = 0; shard < shards; shard++) {
        await cluster.waitForLeader(Math.max(1, deadline - Date.now()), cluster.shardMembers(shard));
      }
      // Every member serving, not only the leaders: a test that talks to one chosen member must find it listening
      // (a member started through tsx on a loaded machine can take seconds longer than its peers).
      await cluster.waitForMembers(Math.max(1, deadline - Date.now()));
      // A founder that exited meanwhile (its port taken, a crash) would leave its group a member short for the whole
      // run while the others elected a leader without it: that is not the cluster the caller asked for.
      const exited = cluster.members.filter((m) => m.shard < shards && m.process === undefined);
      if (exited.length > 0) {
        throw new Error(
          `${exited.map((m) => `${m.name} (${m.lastExit ?? 'never started'})`).join(', ')} exited during start; logs in ${baseDir}`,
        );
      }
    } catch (err) {
      // Why no leader: say which members were running and what each logged last, so a failure far away (CI) can
      // be traced from its message alone.
      const diagnosis = await cluster.diagnose();
      await cluster.killAll();
      throw new Error(`${(err as Error).message}\n${diagnosis}`);
    }
    return cluster;
  }

  private async allocate(
    name: string,
    initialClusterState: 'new' | 'existing',
    shard: number,
  ): Promise<LocalMember> {
    // Ports are probed for every member before any binds its own, so the OS can offer one of them twice.
    const [clientPort, peerPort, httpPort] = await freePorts(3, '127.0.0.1', this.ports);
    for (const port of [clientPort!, peerPort!, httpPort!]) this.ports.add(port);
    return {
      name,
      dataDir: join(this.baseDir, name),
      clientPort: clientPort!,
      peerPort: peerPort!,
      httpPort: httpPort!,
      logFile: join(this.baseDir, `${name}.log`),
      process: undefined,
      initialClusterState,
      shard,
    };
  }

  private founders(shard: number): LocalMember[] {
    return this.members.filter((m) => m.initialClusterState === 'new' && m.shard === shard);
  }

  /** Names of the members of one shard. */
  shardMembers(shard: number): string[] {
    return this.members.filter((m) => m.shard === shard).map((m) => m.name);
  }

  /** The --shard-endpoints list: every member's client address, by shard (empty for one shard: nothing to route). */
  private shardEndpoints(): string {
    if ((this.options.shards ?? 1) + (this.options.spareShards ?? 0) <= 1) return '';
    const byShard = new Map<number, string[]>();
    for (const m of this.members) {
      byShard.set(m.shard, [...(byShard.get(m.shard) ?? []), `127.0.0.1:${m.clientPort}`]);
    }
    return formatShardEndpoints(byShard);
  }

  private spawnMember(m: LocalMember): void {
    const o = this.options;
    const args = [
      ...(o.nodeArgs ?? []),
      ...entryArgs(o.compiled ?? false),
      `--name=${m.name}`,
      `--cluster-id=${o.clusterId ?? 'local'}`,
      `--data-dir=${m.dataDir}`,
      `--client-listen=127.0.0.1:${m.clientPort}`,
      `--peer-listen=127.0.0.1:${m.peerPort}`,
      `--http-listen=127.0.0.1:${m.httpPort}`,
      `--shard=${m.shard}`,
      `--bootstrap-shards=${o.shards ?? 1}`,
      `--shard-endpoints=${this.shardEndpoints()}`,
      `--initial-members=${this.founders(m.shard)
        .map((f) => `${f.name}=127.0.0.1:${f.peerPort}`)
        .join(',')}`,
      `--initial-cluster-state=${m.initialClusterState}`,
      `--fsync=${o.fsync ?? true}`,
      `--log-level=${o.logLevel ?? 'info'}`,
      ...(o.tickMs ? [`--tick-ms=${o.tickMs}`] : []),
      ...(o.electionTicks ? [`--election-ticks=${o.electionTicks}`] : []),
      ...(o.snapshotEntries
        ? [
            `--snapshot-entries=${o.snapshotEntries}`,
            `--snapshot-retain-entries=${Math.min(o.snapshotEntries, 5000)}`,
          ]
        : []),
      ...(o.tls
        ? [
            `--tls-ca-file=${o.tls.caFile}`,
            `--tls-cert-file=${o.tls.certFile}`,
            `--tls-key-file=${o.tls.keyFile}`,
          ]
        : []),
      ...(o.extraArgs ?? []),
    ];
    const log = createWriteStream(m.logFile, { flags: 'a' });
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    m.process = child;
    child.once('exit', (code, signal) => {
      m.lastExit = signal ?? `exit ${code}`;
      if (m.process === child) m.process = undefined;
    });
  }

  member(name: string): LocalMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  /** Client endpoints of members that are running. */
  /** How the members are secured: what a client of this cluster must present. */
  get security(): TransportSecurity {
    return this.options.tls ? { mode: 'mutualTls', files: this.options.tls } : PLAINTEXT;
  }

  endpoints(): string[] {
    return this.members.filter((m) => m.process).map((m) => `127.0.0.1:${m.clientPort}`);
  }

  async status(name: string, timeoutMs = 1000): Promise<StatusResponse | undefined> {
    try {
      const m = this.member(name);
      return await clusterStatus(`127.0.0.1:${m.clientPort}`, timeoutMs, m.shard, this.security);
    } catch {
      return undefined;
    }
  }

  /** Waits until a running member reports itself leader; returns its name. */
  async waitForLeader(timeoutMs: number, among?: readonly string[]): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const m of this.members) {
        if (!m.process || (among && !among.includes(m.name))) continue;
        const st = await this.status(m.name, 500);
        if (st && st.role === MemberRole.MEMBER_ROLE_LEADER && st.leader === m.name) return m.name;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no leader within ${timeoutMs} ms; logs in ${this.baseDir}`);
  }

  /** One line per member: running or how it ended, and the last lines of its log. */
  async diagnose(linesPerMember = 3): Promise<string> {
    const out: string[] = [];
    for (const m of this.members) {
      const state = m.process
        ? `running (pid ${m.process.pid})`
        : `not running (${m.lastExit ?? 'never started'})`;
      out.push(`${m.name}: ${state}; last log lines:`);
      for (const line of await logTail(m.logFile, linesPerMember)) out.push(`  ${line}`);
    }
    return out.join('\n');
  }

  /** Waits until every running member answers Status. */
  async waitForMembers(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.members) {
      while (m.process && (await this.status(m.name, 500)) === undefined) {
        if (Date.now() > deadline) {
          throw new Error(`${m.name} did not answer within ${timeoutMs} ms; logs in ${this.baseDir}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /**
   * Sends a signal (SIGKILL for kill -9); for one that ends the process, resolves when it has exited, with its exit
   * code (null when the signal killed it). Undefined when the member was not running or the signal does not stop it.
   */
  async signal(name: string, signal: NodeJS.Signals): Promise<number | null | undefined> {
    const m = this.member(name);
    const child = m.process;
    if (!child) return undefined;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM' || signal === 'SIGINT') return exited;
    return undefined;
  }

  /** Starts a stopped member again on the same data directory and ports. */
  restart(name: string): void {
    const m = this.member(name);
    if (m.process) throw new Error(`${name} is still running`);
    this.spawnMember(m);
  }

  /**
   * Starts the founding members of a spare shard (see `spareShards`): a new group that elects a leader among them
   * and owns no slot until slots are moved to it. Returns their names; the caller waits for the leader.
   */
  startShard(shard: number): string[] {
    const first = this.options.shards ?? 1;
    if (!Number.isInteger(shard) || shard < first || shard >= first + (this.options.spareShards ?? 0)) {
      throw new Error(
        `shard ${shard} is not a spare shard of this cluster (spare ids start at ${first}, ${this.options.spareShards ?? 0} of them)`,
      );
    }
    const founders = this.founders(shard);
    const running = founders.filter((m) => m.process !== undefined || m.lastExit !== undefined);
    if (running.length > 0) throw new Error(`shard ${shard} was started already (${running[0]!.name})`);
    for (const m of founders) this.spawnMember(m);
    return founders.map((m) => m.name);
  }

  /** Starts a new empty member that waits to be added (--initial-cluster-state=existing). */
  async startJoiner(name: string, shard = 0): Promise<LocalMember> {
    const m = await this.allocate(name, 'existing', shard);
    this.members.push(m);
    this.spawnMember(m);
    return m;
  }

  /** Stops every member with SIGTERM (graceful) and waits for them. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.signal(m.name, 'SIGTERM')));
  }

  /** Stops every member with SIGKILL. */
  async killAll(): Promise<void> {
    await Promise.all(this.members.map((m) => this.signal(m.name, 'SIGKILL')));
  }
}
