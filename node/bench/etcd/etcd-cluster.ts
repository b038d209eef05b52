// A 3-member etcd on loopback for the benchmark: fresh temp data dirs, default settings (fsync on), one OS
// process per member so kill -9 and SIGTERM are real. Driven only through etcd's own gRPC API.
import { channelCredentials, PLAINTEXT } from '../../shared/security/transport-security.js';
import { Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../src/local-cluster/free-port.js';
import { etcdService } from './etcd-api.js';

let resolved: string | undefined;

/**
 * The etcd to compare against: $ETCD_BINARY, else the etcd 3.6 the local Kubernetes build makes from Go modules
 * (`npm run kube:build`, asked through `npm run kube:paths` so the benchmark does not import e2e code). The same
 * etcd the control plane runs, so the comparison is with the store users of that control plane already have.
 * Empty when neither is there.
 */
export function etcdBinary(): string {
  if (resolved !== undefined) return resolved;
  const fromEnv = process.env.ETCD_BINARY;
  if (fromEnv !== undefined && fromEnv !== '') return (resolved = fromEnv);
  const r = spawnSync('npm', ['run', '--silent', 'kube:paths'], { encoding: 'utf8', timeout: 60_000 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('ETCD='));
  return (resolved = line?.slice('ETCD='.length).trim() ?? '');
}

/** `etcd --version`'s first line ("etcd Version: 3.6.16"), so a run's output says what it compared against. */
export function etcdVersion(): string {
  const r = spawnSync(etcdBinary(), ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return (r.stdout ?? '').split('\n')[0]?.trim() || `unknown (${r.error?.message ?? `exit ${r.status}`})`;
}

/** What to tell a user whose etcd is missing. */
export function missingEtcd(): string {
  const path = etcdBinary();
  return path === ''
    ? 'no etcd: run `npm run kube:build` (it builds etcd 3.6 from Go modules) or set ETCD_BINARY=/path/to/etcd'
    : `${path} is missing: run \`npm run kube:build\` or set ETCD_BINARY=/path/to/etcd`;
}

interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly logFile: string;
  process: ChildProcess | undefined;
}

interface StatusReply {
  header: { member_id: string };
  leader: string;
}
interface MaintenanceStub extends Client {
  status(
    req: object,
    md: Metadata,
    opts: { deadline: number },
    cb: (e: ServiceError | null, r: StatusReply) => void,
  ): void;
  moveLeader(
    req: { targetID: string },
    md: Metadata,
    opts: { deadline: number },
    cb: (e: ServiceError | null) => void,
  ): void;
}

function maintenance(address: string): MaintenanceStub {
  const Ctor = etcdService<MaintenanceStub>('Maintenance');
  return new Ctor(address, channelCredentials(PLAINTEXT, { watch: false }), {});
}

export function etcdStatus(address: string, timeout_ms = 1000): Promise<StatusReply> {
  const client = maintenance(address);
  return new Promise((resolve, reject) =>
    client.status({}, new Metadata(), { deadline: Date.now() + timeout_ms }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    }),
  );
}

export class EtcdCluster {
  private constructor(
    readonly baseDir: string,
    readonly members: EtcdMember[],
    private readonly extraArgs: readonly string[],
  ) {}

  /** `extraArgs` go to every member (e.g. --election-timeout, --heartbeat-interval). */
  static async start(size: number, extraArgs: readonly string[] = []): Promise<EtcdCluster> {
    const binary = etcdBinary();
    if (binary === '' || !existsSync(binary)) throw new Error(missingEtcd());
    const baseDir = await mkdtemp(join(tmpdir(), 'bench-etcd-'));
    const members: EtcdMember[] = [];
    for (let i = 0; i < size; i++) {
      const [clientPort, peerPort] = await freePorts(2);
      members.push({
        name: `e${i}`,
        clientPort: clientPort!,
        peerPort: peerPort!,
        dataDir: join(baseDir, `e${i}`),
        logFile: join(baseDir, `e${i}.log`),
        process: undefined,
      });
    }
    const cluster = new EtcdCluster(baseDir, members, extraArgs);
    for (const m of members) cluster.spawnMember(m);
    await cluster.waitForLeader(30_000);
    return cluster;
  }

  private spawnMember(m: EtcdMember): void {
    const initialCluster = this.members.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(',');
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=http://127.0.0.1:${m.clientPort}`,
      `--advertise-client-urls=http://127.0.0.1:${m.clientPort}`,
      `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${m.peerPort}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-token=bench',
      // Ignored on restart (the data dir has the membership), so the same flags serve both.
      '--initial-cluster-state=new',
      '--logger=zap',
      '--log-outputs=stderr',
      ...this.extraArgs,
    ];
    const log = createWriteStream(m.logFile, { flags: 'a' });
    const child = spawn(etcdBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    m.process = child;
    child.once('exit', () => {
      if (m.process === child) m.process = undefined;
    });
  }

  member(name: string): EtcdMember {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    return m;
  }

  endpoint(name: string): string {
    return `127.0.0.1:${this.member(name).clientPort}`;
  }

  endpoints(): string[] {
    return this.members.filter((m) => m.process).map((m) => this.endpoint(m.name));
  }

  pids(): number[] {
    return this.members.flatMap((m) => (m.process?.pid ? [m.process.pid] : []));
  }

  /** Name and member id of every running member that answers. */
  private async statuses(): Promise<{ name: string; id: string; leader: string }[]> {
    const out: { name: string; id: string; leader: string }[] = [];
    for (const m of this.members) {
      if (!m.process) continue;
      try {
        const st = await etcdStatus(this.endpoint(m.name), 500);
        out.push({ name: m.name, id: st.header.member_id, leader: st.leader });
      } catch {
        // Not up yet or being killed: it simply does not count.
      }
    }
    return out;
  }

  async waitForLeader(timeout_ms: number): Promise<string> {
    const deadline = Date.now() + timeout_ms;
    while (Date.now() < deadline) {
      const sts = await this.statuses();
      const leader = sts.find((s) => s.leader !== '0' && s.id === s.leader);
      // All running members must agree, so a restarted member has caught up with who leads.
      if (leader && sts.length === this.pids().length && sts.every((s) => s.leader === leader.id))
        return leader.name;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`etcd: no leader within ${timeout_ms} ms; logs in ${this.baseDir}`);
  }

  async signal(name: string, signal: NodeJS.Signals): Promise<void> {
    const child = this.member(name).process;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await exited;
  }

  restart(name: string): void {
    const m = this.member(name);
    if (m.process) throw new Error(`etcd ${name} is still running`);
    this.spawnMember(m);
  }

  /** MoveLeader from the current leader to another member (what `etcdctl move-leader` does). */
  async transferLeadership(timeout_ms: number): Promise<void> {
    const leaderName = await this.waitForLeader(timeout_ms);
    const target = (await this.statuses()).find((s) => s.name !== leaderName);
    if (!target) throw new Error('etcd: no member to move leadership to');
    const client = maintenance(this.endpoint(leaderName));
    await new Promise<void>((resolve, reject) =>
      client.moveLeader(
        { targetID: target.id },
        new Metadata(),
        { deadline: Date.now() + timeout_ms },
        (err) => {
          client.close();
          if (err) reject(err);
          else resolve();
        },
      ),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.signal(m.name, 'SIGTERM')));
  }
}
