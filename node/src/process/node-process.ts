// One datastore member as a process: storage, Raft replica, peer transport, gRPC servers and the HTTP probe server,
// wired together. Start order: decide how to start, open storage, rebuild the in-memory log (rewritten first when a
// ForceNewCluster marker asks for it), start serving.
// Stop order (SIGTERM, or after ForceNewCluster): hand leadership away, stop taking requests, drain, sync, close.
import {
  channelCredentials,
  checkReadable,
  describeSecurity,
  serverCredentials,
  transportSecurity,
  type TransportSecurity,
} from '../../shared/security/transport-security.js';
import { Metadata, Server, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ClusterClient,
  ClusterService,
  type StatusResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { KVService } from '../../shared/api/generated/raftstore/v1/kv.js';
import { RaftService } from '../../shared/api/generated/raftstore/v1/raft.js';
import type { NodeConfig } from '../config/node-config.js';
import { configWarnings } from '../config/warnings.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from '../kv/limits.js';
import {
  KvStateMachine,
  kvStateMachineOptions,
  lowersDataFormat,
  type KvStateMachineOptions,
} from '../kv/state-machine.js';
import type { ApplyOutcome } from '../kv/types.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { NodeMetrics } from '../observability/node-metrics.js';
import { WriteTracer } from '../observability/write-trace.js';
import { ObservabilityHttpServer, type ReadinessCheck } from '../../shared/http/http-server.js';
import { appliedCaughtUpCheck, hasLeaderCheck, readinessOf } from '../observability/readiness.js';
import { raftStatusToJson } from '../observability/status-json.js';
import type { MemoryStorage } from '../raft/memory-storage.js';
import { RawNode } from '../raft/raw-node.js';
import type { RaftStatus } from '../raft/types.js';
import { MemberDirectory, type MemberInfo } from '../replica/member-directory.js';
import { RaftReplica } from '../replica/raft-replica.js';
import { bootstrapLog, restoreLog } from '../replica/member-log.js';
import { createClusterService } from '../server/cluster-service.js';
import type { ForceNewClusterKept } from '../server/force-new-cluster.js';
import { StatusError } from '../server/grpc-errors.js';
import { createKvService } from '../server/kv-service.js';
import { LeaderForwarder } from '../server/leader-forwarder.js';
import { ServedForwardStreams } from '../server/forward-service.js';
import { ForwardStreams } from '../server/forward-stream.js';
import { ShardForwarder } from '../server/shard-forwarder.js';
import { SlotHints } from '../routing/slot-hints.js';
import { SlotOwnership } from '../sharding/slot-ownership.js';
import type { RpcObserver } from '../server/unary-handler.js';
import { RaftDiskStorage } from '../storage/raft-disk-storage.js';
import { createRaftService } from '../transport/raft-service.js';
import { PeerTransport } from '../transport/peer-transport.js';
import { DiskPersistence } from './disk-persistence.js';
import { EXIT_RESTART } from './exit-codes.js';
import { ForceNewClusterError } from './force-new-cluster.js';
import { FORCE_NEW_CLUSTER_MARKER, readForceNewClusterMarker } from './force-new-cluster-marker.js';
import { prepareForceNewCluster } from './force-new-cluster-request.js';
import { forceNewClusterOnRestart, forceNewClusterStartRefusal } from './force-new-cluster-restart.js';
import { decideStartMode, startModeReason, type StartMode } from './start-mode.js';

const HEALTH_SERVICE = 'raftstore.v1.KV';
/** A member whose applied index trails commit by more than this is not ready for traffic. */
const READY_MAX_APPLY_LAG = 1000;
/**
 * Peer gRPC message bound. A Raft append carries at most 1 MiB beyond its first entry, and that entry is at most
 * --max-request-bytes, so this always fits; otherwise an oversized append would be dropped and re-sent forever.
 */
function peerMaxMessageBytes(config: NodeConfig): number {
  return Math.max(16 * 1024 * 1024, config.maxRequestBytes + 2 * 1024 * 1024);
}
/** Learners this close to the leader may be promoted. */
const MAX_PROMOTE_LAG = 1000;
/**
 * After answering ForceNewCluster the member waits this long before it stops, so the answer leaves first (the
 * graceful stop also lets calls in flight finish).
 */
const RESTART_AFTER_ANSWER_MS = 100;

function hostPort(hp: { host: string; port: number }): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** etcd's learner-aware readiness, but a learner that is caught up may serve (it forwards and uses ReadIndex). */
function memberOfConfigurationCheck(status: RaftStatus): ReadinessCheck {
  const member = status.config.voters.includes(status.id) || status.config.learners.includes(status.id);
  return member
    ? { name: 'member', ok: true, message: `${status.id} is in the configuration` }
    : { name: 'member', ok: false, message: `${status.id} is not (or no longer) in the configuration` };
}

function bindServer(server: Server, address: string, security: TransportSecurity): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, serverCredentials(security), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}

function shutdownServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Asks the founding peers whether a cluster already exists (a wiped founder must not found it again). */
async function peersReportExistingCluster(
  config: NodeConfig,
  security: TransportSecurity,
  logger: Logger,
): Promise<boolean> {
  const others = config.initialMembers.filter((m) => m.name !== config.name);
  const answers = await Promise.all(
    others.map(
      (m) =>
        new Promise<StatusResponse | undefined>((resolve) => {
          const client = new ClusterClient(
            hostPort(m.peerAddress),
            channelCredentials(security, { watch: false }),
          );
          client.status(
            { shardId: config.shard },
            new Metadata(),
            { deadline: Date.now() + 1500 },
            (err: ServiceError | null, res: StatusResponse) => {
              client.close();
              resolve(err ? undefined : res);
            },
          );
        }),
    ),
  );
  const existing = answers.find((a) => a !== undefined && a.commit > 1);
  if (existing)
    logger.warn({ peer: existing.member, commit: existing.commit }, 'a founding peer already has a cluster');
  return existing !== undefined;
}

export interface NodeProcessOptions {
  readonly config: NodeConfig;
  readonly version: string;
  /** Called when the member cannot go on (disk failure, invariant): the caller exits non-zero. */
  readonly onFatal: (error: Error) => void;
  /**
   * Called once the member stopped itself gracefully to be started again with the same flags (after
   * ForceNewCluster): the caller exits with EXIT_RESTART so the supervisor restarts it.
   */
  readonly onRestart: (reason: string) => void;
}

/** With --trace-writes: a tracer appending to dir/<name>.trace.jsonl (observability/write-trace.ts). */
function startWriteTracer(config: NodeConfig, logger: Logger): WriteTracer | undefined {
  if (config.traceWrites === '') return undefined;
  mkdirSync(config.traceWrites, { recursive: true });
  const file = join(config.traceWrites, `${config.name}.trace.jsonl`);
  const tracer = new WriteTracer({
    member: config.name,
    sampleEvery: config.traceSample,
    // A second of records at the highest rates at most a few thousand per stage: this bounds a stalled flush.
    maxBufferedRecords: 200_000,
    write: (lines) => appendFileSync(file, lines),
  });
  logger.warn({ file, sampleEvery: config.traceSample }, 'tracing sampled writes (a diagnostic mode)');
  return tracer;
}

export class NodeProcess {
  private metricsTimer: NodeJS.Timeout | undefined;
  /** Set by start() when --trace-writes is on: flushed every second and at shutdown. */
  private tracer: WriteTracer | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly config: NodeConfig,
    readonly logger: Logger,
    readonly mode: StartMode,
    private readonly storage: RaftDiskStorage,
    readonly replica: RaftReplica<ApplyOutcome>,
    private readonly transport: PeerTransport,
    private readonly clientServer: Server,
    private readonly peerServer: Server,
    private readonly health: HealthImplementation,
    private readonly http: ObservabilityHttpServer,
    private readonly forwarder: LeaderForwarder,
    /** Streams of requests routed to other shards: those this member sends, and those it serves. */
    private readonly forwarding: { sent: ForwardStreams; served: ServedForwardStreams },
    readonly metrics: NodeMetrics,
    readonly ports: { client: number; peer: number; http: number },
  ) {}

  static async start(options: NodeProcessOptions): Promise<NodeProcess> {
    const { config } = options;
    const logger = createLogger({
      level: config.logLevel,
      cluster: config.clusterId,
      shard: config.shard,
      member: config.name,
    });
    const metrics = new NodeMetrics();
    // Decided once, here, for every server and channel of this member; unreadable files stop the start with their name.
    const security = transportSecurity({
      caFile: config.tlsCaFile,
      certFile: config.tlsCertFile,
      keyFile: config.tlsKeyFile,
    });
    checkReadable(security);
    logger.info({ security: describeSecurity(security) }, 'transport security');
    /** This member's channels to its peers (Raft, forwarding): long-lived, so they follow rotated certificates. */
    const peerCredentials = channelCredentials(security, { watch: true });
    await mkdir(config.dataDir, { recursive: true });

    const freshDirectory = !existsSync(join(config.dataDir, 'IDENTITY'));
    const facts = {
      freshDirectory,
      initialClusterState: config.initialClusterState,
      peersReportExistingCluster:
        freshDirectory && config.initialClusterState === 'new'
          ? await peersReportExistingCluster(config, security, logger)
          : false,
    };
    const mode = decideStartMode(facts);
    logger.info({ mode }, startModeReason(mode, facts));
    const forceMarker = await readForceNewClusterMarker(config.dataDir);
    const forceRefusal = forceMarker
      ? forceNewClusterStartRefusal(mode, join(config.dataDir, FORCE_NEW_CLUSTER_MARKER))
      : undefined;
    if (forceRefusal !== undefined) throw new ForceNewClusterError(forceRefusal);
    for (const warning of configWarnings(config)) logger.warn(warning);

    const storage = await RaftDiskStorage.open(config.dataDir, {
      identity: {
        clusterId: config.clusterId,
        shardId: String(config.shard),
        memberName: config.name,
        // Founders are known to each other by name; every later incarnation gets a unique id.
        ...(mode === 'bootstrap' ? { nodeId: config.name } : {}),
      },
      randomBytes: (n) => new Uint8Array(randomBytes(n)),
      onFsync: (ms, bytes) => {
        metrics.observeFsync(ms);
        metrics.observeWalAppend(bytes);
      },
    });
    const identity = storage.identity;
    if (storage.report.truncatedTail)
      logger.warn({ tail: storage.report.truncatedTail }, 'cut a torn WAL tail');

    const initialMembers: MemberInfo[] = config.initialMembers.map((m) => ({
      id: m.name,
      name: m.name,
      peerAddress: hostPort(m.peerAddress),
      clientAddress: m.name === config.name ? hostPort(config.advertiseClient) : '',
    }));
    const directory = new MemberDirectory(initialMembers);
    directory.set({
      id: identity.nodeId,
      name: config.name,
      peerAddress: hostPort(config.advertisePeer),
      clientAddress: hostPort(config.advertiseClient),
    });

    // Rebuild the in-memory log and the state machine. Before its first entry the group owns its share of the slots
    // of the cluster's creation layout (what every replica of it, and a restored format-1 snapshot, starts from).
    const machineOptions = (): KvStateMachineOptions =>
      kvStateMachineOptions(undefined, undefined, () =>
        SlotOwnership.initial(config.shard, config.bootstrapShards),
      );
    let memory: MemoryStorage;
    let machine = new KvStateMachine(machineOptions());
    if (mode === 'bootstrap') {
      memory = bootstrapLog(initialMembers, machine.snapshot());
      await storage.append(memory.initialState().hardState, [], memory.snapshot());
    } else {
      let recovered = storage.takeRecoveredState();
      if (forceMarker) {
        try {
          recovered = await forceNewClusterOnRestart({
            storage,
            recovered,
            marker: forceMarker,
            self: identity.nodeId,
            logger,
          });
        } catch (err) {
          await storage.close().catch(() => undefined);
          throw err;
        }
      }
      const restored = restoreLog(recovered, (bytes) => KvStateMachine.restore(bytes, machineOptions()));
      memory = restored.memory;
      machine = restored.machine ?? machine;
      for (const m of restored.members) if (m.id !== identity.nodeId) directory.set(m);
    }
    const applied = memory.snapshot().metadata.index;

    const node = new RawNode({
      id: identity.nodeId,
      storage: memory,
      electionTicks: config.electionTicks,
      heartbeatTicks: config.heartbeatTicks,
      applied,
      maxEntriesBytesPerMessage: 1024 * 1024,
      maxInflightMessages: 256,
      maxUncommittedEntriesBytes: config.maxUncommittedBytes,
      preVote: true,
      checkQuorum: true,
      random: Math.random,
    });

    // The transport and the replica refer to each other through these late-bound callbacks.
    const late: {
      replica?: RaftReplica<ApplyOutcome>;
      fatal?: (e: Error) => void;
      restart?: (reason: string) => void;
    } = {};
    const transport = new PeerTransport({
      credentials: peerCredentials,
      shardId: config.shard,
      selfId: identity.nodeId,
      resolve: (id) => directory.get(id)?.peerAddress,
      onUnreachable: (id) => late.replica?.reportUnreachable(id),
      onSnapshotStatus: (id, ok) => late.replica?.reportSnapshot(id, ok),
      logger: logger.child({ component: 'transport' }),
      // One append carries at most one entry (≤ max request) plus 1 MiB of further entries: always below this.
      limits: { maxMessageBytes: peerMaxMessageBytes(config) },
    });

    const tracer = startWriteTracer(config, logger);
    const replica = new RaftReplica<ApplyOutcome>({
      node,
      storage: memory,
      persistence: new DiskPersistence(storage, config.fsync),
      machine,
      restoreMachine: (bytes) => KvStateMachine.restore(bytes, machineOptions()),
      directory,
      send: (messages) => transport.send(messages),
      tickMs: config.tickMs,
      electionTicks: config.electionTicks,
      snapshotEntries: config.snapshotEntries,
      snapshotRetainEntries: config.snapshotRetainEntries,
      // A lowered data format is written to disk at once: a downgrade to a build that reads only the lower format
      // may follow, and it must find a snapshot it reads, past the entry that lowered it.
      snapshotAfter: lowersDataFormat,
      requestTimeoutMs: config.requestTimeoutMs,
      maxQueuedRequests: 50_000,
      maxBatchEntries: 4096,
      logger: logger.child({ component: 'replica' }),
      observer: {
        ...metrics.replicaObserver(),
        onLeaderChange: (leader, term) => logger.info({ leader, term }, 'leadership changed'),
      },
      onRemoved: () =>
        logger.warn('removed from the configuration; this member no longer takes part in the cluster'),
      onFatal: (e) => late.fatal?.(e),
      ...(tracer !== undefined ? { trace: tracer } : {}),
    });
    late.replica = replica;

    const limits: KvLimits = {
      ...DEFAULT_KV_LIMITS,
      maxKeyBytes: config.maxKeyBytes,
      maxValueBytes: config.maxValueBytes,
      maxTxnOps: config.maxTxnOps,
    };
    const forwarder = new LeaderForwarder(
      config.requestTimeoutMs,
      config.maxRequestBytes + 1024 * 1024,
      peerCredentials,
    );
    const rpcObserver: RpcObserver = {
      startRequest: (service, method) => metrics.startGrpcRequest(service, method),
    };
    // Channels to other shards come from the same cache as those to this group's leader (closed with it); requests
    // to them travel on one stream per address.
    const forwardStreams = new ForwardStreams(forwarder, config.maxRequestBytes);
    const servedForwards = new ServedForwardStreams();
    const shardForwarder = new ShardForwarder(config.shardEndpoints, config.requestTimeoutMs, forwardStreams);
    const kv = createKvService({
      shardId: config.shard,
      memberName: config.name,
      replica,
      limits,
      forwarder,
      now: Date.now,
      maxInFlight: 20_000,
      maxInFlightBytes: config.maxInFlightBytes,
      maxMessageBytes: config.maxRequestBytes,
      servedForwards,
      // Two election timeouts: an election (or a transfer) normally ends well within it.
      leaderWaitMs: 2 * config.electionTicks * config.tickMs,
      observer: rpcObserver,
      // Two hops: a stale hint, then the owner the wrong group names.
      routing: { hints: new SlotHints(config.bootstrapShards), shards: shardForwarder, maxHops: 2 },
    });
    let forcing: Promise<ForceNewClusterKept> | undefined;
    const cluster = createClusterService({
      shardId: config.shard,
      memberName: config.name,
      incarnation: identity.incarnationId,
      version: options.version,
      replica,
      forwarder,
      lastContactMs: (id) => {
        const at = transport.peerStats(id)?.lastContactMs;
        return at === undefined ? undefined : Math.max(0, Date.now() - at);
      },
      maxPromoteLagEntries: MAX_PROMOTE_LAG,
      maxInFlight: 1000,
      observer: rpcObserver,
      forceNewCluster: () => {
        // Twice asked, once done: the second caller gets the first one's answer.
        forcing ??= prepareForceNewCluster({ replica, memory, storage, now: Date.now })
          .then(
            (kept): ForceNewClusterKept => {
              logger.warn(
                { ...kept, exitCode: EXIT_RESTART },
                'ForceNewCluster: recorded the request; stopping to restart as the one voter of a new cluster',
              );
              return kept;
            },
            (err: unknown) => {
              logger.warn(
                { err, exitCode: EXIT_RESTART },
                'ForceNewCluster refused or failed after stopping the replica; restarting without forcing',
              );
              throw err instanceof ForceNewClusterError
                ? new StatusError(grpcStatus.FAILED_PRECONDITION, err.message)
                : err;
            },
          )
          // The replica is stopped whatever the outcome: only a restart brings the member back.
          .finally(() => late.restart?.('ForceNewCluster'));
        return forcing;
      },
    });
    const serverOptions = {
      'grpc.max_receive_message_length': config.maxRequestBytes,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    };
    const clientServer = new Server(serverOptions);
    clientServer.addService(KVService, kv);
    clientServer.addService(ClusterService, cluster);
    const health = new HealthImplementation({ '': 'NOT_SERVING', [HEALTH_SERVICE]: 'NOT_SERVING' });
    health.addToServer(clientServer);

    const peerServer = new Server({
      ...serverOptions,
      'grpc.max_receive_message_length': peerMaxMessageBytes(config),
    });
    peerServer.addService(
      RaftService,
      createRaftService({
        localMember: (shardId) => (shardId === config.shard ? identity.nodeId : undefined),
        deliver: (_shardId, message) => replica.deliver(message),
        maxSnapshotBytes: 4 * 1024 * 1024 * 1024,
        logger: logger.child({ component: 'raft-service' }),
      }),
    );
    peerServer.addService(KVService, kv);
    peerServer.addService(ClusterService, cluster);

    const clientPort = await bindServer(clientServer, hostPort(config.clientListen), security);
    const peerPort = await bindServer(peerServer, hostPort(config.peerListen), security);

    const http = new ObservabilityHttpServer({
      host: config.httpListen.host,
      port: config.httpListen.port,
      live: () => replica.failure === undefined,
      readiness: () => {
        const st = replica.status();
        return readinessOf([
          memberOfConfigurationCheck(st),
          hasLeaderCheck(st),
          appliedCaughtUpCheck({ ...st, applied: replica.stateMachine.appliedIndex }, READY_MAX_APPLY_LAG),
        ]);
      },
      metrics,
      status: () => ({
        member: config.name,
        id: identity.nodeId,
        incarnation: identity.incarnationId,
        version: options.version,
        mode,
        raft: raftStatusToJson(replica.status()),
        members: directory.all(),
      }),
      logger,
    });
    const httpAddress = await http.start();

    const proc = new NodeProcess(
      config,
      logger,
      mode,
      storage,
      replica,
      transport,
      clientServer,
      peerServer,
      health,
      http,
      forwarder,
      { sent: forwardStreams, served: servedForwards },
      metrics,
      { client: clientPort, peer: peerPort, http: httpAddress.port },
    );
    proc.tracer = tracer;
    late.fatal = (e) => options.onFatal(e);
    late.restart = (reason) => {
      setTimeout(() => {
        proc.shutdown(reason).then(
          () => {
            logger.warn({ reason, exitCode: EXIT_RESTART }, 'stopped to be restarted by the supervisor');
            options.onRestart(reason);
          },
          (err: unknown) => options.onFatal(err instanceof Error ? err : new Error(String(err))),
        );
      }, RESTART_AFTER_ANSWER_MS);
    };
    replica.start();
    health.setStatus('', 'SERVING');
    health.setStatus(HEALTH_SERVICE, 'SERVING');
    proc.metricsTimer = setInterval(() => {
      metrics.setRaftStatus(replica.status());
      const machine = replica.stateMachine as KvStateMachine;
      metrics.setSlots(machine.ownership);
      metrics.setDataFormat(machine.dataFormat);
      tracer?.flush();
    }, 1000);
    proc.metricsTimer.unref();
    logger.info(
      { id: identity.nodeId, clientPort, peerPort, httpPort: httpAddress.port, mode },
      'member started',
    );
    return proc;
  }

  /**
   * Graceful stop within the configured grace period: a leader first hands leadership to the most caught-up
   * voter (so clients see a ~one-round-trip pause instead of an election timeout), then requests drain.
   */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.doShutdown(reason);
    return this.stopping;
  }

  private async doShutdown(reason: string): Promise<void> {
    const started = Date.now();
    const grace = this.config.shutdownGraceMs;
    this.logger.info({ reason }, 'shutting down');
    try {
      // Half the grace period at most: draining requests and closing storage need the rest.
      const next = await this.replica.handOverBeforeStopping(grace / 2);
      if (next !== undefined) {
        this.logger.info({ next, ms: Date.now() - started }, 'handed leadership over before stopping');
      } else if (this.replica.status().leader === this.replica.id) {
        this.logger.warn(
          { ms: Date.now() - started },
          'no voter took leadership over; the others will elect a leader',
        );
      }
    } catch (err) {
      this.logger.warn({ err }, 'could not hand leadership over; the others will elect a leader');
    }
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(HEALTH_SERVICE, 'NOT_SERVING');
    const remaining = (): number => Math.max(100, grace - (Date.now() - started));
    // Other members' forward streams end once what they sent is answered; open, they would hold the shutdown up.
    this.forwarding.served.drain();
    await shutdownServer(this.clientServer, remaining() / 2);
    await this.replica.stop();
    await shutdownServer(this.peerServer, Math.min(1000, remaining()));
    // Messages still queued for a peer that is gone too (several pods deleted at once) are not worth the grace
    // period: a connect to a vanished address can hang for seconds.
    await this.transport.close(Math.min(1000, remaining()));
    this.forwarding.sent.close();
    this.forwarder.close();
    if (this.metricsTimer) clearInterval(this.metricsTimer);
    this.tracer?.flush();
    await this.storage.close();
    await this.http.close();
    this.logger.info({ ms: Date.now() - started }, 'stopped');
  }
}
