// The table of every setting: flag, environment variable, default and parser, in one place so that parsing, the
// --help text and error messages cannot drift apart. Defaults are strings run through the same parser as user input,
// so a default is shown in --help exactly as a user would type it. It lives in node/shared because the operator
// writes these variables into each member's pod (operator/src/children/statefulset.ts) and imports their names from
// here; the node parses them in node/src/config/node-config.ts.

import { parseShardEndpoints, SHARD_PLACEHOLDER } from './shard-endpoints.js';
import { SLOT_COUNT } from '../sharding/slot.js';
import {
  boolean,
  dns1123Label,
  hostPort,
  identifier,
  initialMembers,
  integerIn,
  oneOf,
  optionalPath,
  path,
  type ValueParser,
} from './value-parsers.js';

export const ENV_PREFIX = 'RAFTSTORE_';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CLUSTER_STATES = ['new', 'existing'] as const;
export type InitialClusterState = (typeof CLUSTER_STATES)[number];

export interface OptionSpec<T> {
  readonly flag: `--${string}`;
  readonly env: `${typeof ENV_PREFIX}${string}`;
  /** Placeholder for the value in --help, e.g. `host:port`. */
  readonly valueName: string;
  readonly help: string;
  /**
   * Unset and no default: an error unless a cross-field rule supplies or waives the value (see
   * node/src/config/node-config.ts).
   */
  readonly defaultValue?: string;
  readonly required?: true;
  /** A bare `--flag` means `true`. */
  readonly isBoolean?: true;
  readonly parse: ValueParser<T>;
}

function option<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const MAX_DURATION_MS = 10 * 60 * 1000;
const MAX_ENTRIES = 100_000_000;

export const OPTIONS = {
  name: option({
    flag: '--name',
    env: 'RAFTSTORE_NAME',
    valueName: 'name',
    help: "this member's name, a DNS-1123 label (in Kubernetes: the pod name)",
    required: true,
    parse: dns1123Label,
  }),
  clusterId: option({
    flag: '--cluster-id',
    env: 'RAFTSTORE_CLUSTER_ID',
    valueName: 'id',
    help: 'the cluster this member belongs to; messages from another cluster are refused',
    required: true,
    parse: identifier,
  }),
  shard: option({
    flag: '--shard',
    env: 'RAFTSTORE_SHARD',
    valueName: 'n',
    help: 'the shard (Raft group) this member serves',
    defaultValue: '0',
    parse: integerIn(0, SLOT_COUNT - 1),
  }),
  bootstrapShards: option({
    flag: '--bootstrap-shards',
    env: 'RAFTSTORE_BOOTSTRAP_SHARDS',
    valueName: 'n',
    help:
      'how many shards the cluster was created with; shard k of them starts owning the k-th even share of the ' +
      'hash slots, a shard created later starts with none. Fixed for the life of the cluster',
    defaultValue: '1',
    parse: integerIn(1, SLOT_COUNT),
  }),
  shardEndpoints: option({
    flag: '--shard-endpoints',
    env: 'RAFTSTORE_SHARD_ENDPOINTS',
    valueName: 'spec',
    help:
      `where this member reaches other shards to route keys it does not own: a host:port template with ` +
      `${SHARD_PLACEHOLDER} (one Service per shard), or shard=host:port[,host:port] entries separated by ';'. ` +
      'Empty: no routing; a key of another shard is answered with a redirect',
    defaultValue: '',
    parse: parseShardEndpoints,
  }),
  dataDir: option({
    flag: '--data-dir',
    env: 'RAFTSTORE_DATA_DIR',
    valueName: 'path',
    help: 'directory for the write-ahead log and snapshots (locked while the member runs)',
    required: true,
    parse: path,
  }),
  clientListen: option({
    flag: '--client-listen',
    env: 'RAFTSTORE_CLIENT_LISTEN',
    valueName: 'host:port',
    help: 'address the client gRPC API listens on',
    defaultValue: '0.0.0.0:2379',
    parse: hostPort,
  }),
  peerListen: option({
    flag: '--peer-listen',
    env: 'RAFTSTORE_PEER_LISTEN',
    valueName: 'host:port',
    help: 'address the member-to-member Raft gRPC service listens on',
    defaultValue: '0.0.0.0:2380',
    parse: hostPort,
  }),
  httpListen: option({
    flag: '--http-listen',
    env: 'RAFTSTORE_HTTP_LISTEN',
    valueName: 'host:port',
    help: 'address of the HTTP server for /livez, /readyz, /metrics and /status',
    defaultValue: '0.0.0.0:8080',
    parse: hostPort,
  }),
  advertiseClient: option({
    flag: '--advertise-client',
    env: 'RAFTSTORE_ADVERTISE_CLIENT',
    valueName: 'host:port',
    help: 'client address other members and clients use to reach this member; defaults to --client-listen, required when that host is 0.0.0.0 or :: or its port is 0',
    parse: hostPort,
  }),
  advertisePeer: option({
    flag: '--advertise-peer',
    env: 'RAFTSTORE_ADVERTISE_PEER',
    valueName: 'host:port',
    help: 'peer address other members use to reach this member; defaults to --peer-listen, required when that host is 0.0.0.0 or :: or its port is 0',
    parse: hostPort,
  }),
  initialMembers: option({
    flag: '--initial-members',
    env: 'RAFTSTORE_INITIAL_MEMBERS',
    valueName: 'name=host:port,...',
    help: 'peer addresses of the founding members; required with --initial-cluster-state=new and must then list --name at its --advertise-peer address',
    parse: initialMembers,
  }),
  initialClusterState: option({
    flag: '--initial-cluster-state',
    env: 'RAFTSTORE_INITIAL_CLUSTER_STATE',
    valueName: 'new|existing',
    help: 'new: found the cluster with --initial-members; existing: start empty and wait to be added as a learner',
    defaultValue: 'new',
    parse: oneOf(CLUSTER_STATES),
  }),
  tickMs: option({
    flag: '--tick-ms',
    env: 'RAFTSTORE_TICK_MS',
    valueName: 'ms',
    help: 'length of one Raft tick',
    defaultValue: '100',
    parse: integerIn(1, 10_000),
  }),
  electionTicks: option({
    flag: '--election-ticks',
    env: 'RAFTSTORE_ELECTION_TICKS',
    valueName: 'n',
    help: 'ticks without hearing from a leader before a follower starts an election (randomised up to twice this)',
    defaultValue: '10',
    parse: integerIn(2, 10_000),
  }),
  heartbeatTicks: option({
    flag: '--heartbeat-ticks',
    env: 'RAFTSTORE_HEARTBEAT_TICKS',
    valueName: 'n',
    help: 'ticks between leader heartbeats; must be less than --election-ticks',
    defaultValue: '1',
    parse: integerIn(1, 10_000),
  }),
  snapshotEntries: option({
    flag: '--snapshot-entries',
    env: 'RAFTSTORE_SNAPSHOT_ENTRIES',
    valueName: 'n',
    help: 'take a snapshot every n applied entries',
    defaultValue: '10000',
    parse: integerIn(1, MAX_ENTRIES),
  }),
  snapshotRetainEntries: option({
    flag: '--snapshot-retain-entries',
    env: 'RAFTSTORE_SNAPSHOT_RETAIN_ENTRIES',
    valueName: 'n',
    help: 'log entries kept behind a snapshot so slow followers can catch up without a snapshot transfer',
    defaultValue: '5000',
    parse: integerIn(0, MAX_ENTRIES),
  }),
  maxKeyBytes: option({
    flag: '--max-key-bytes',
    env: 'RAFTSTORE_MAX_KEY_BYTES',
    valueName: 'bytes',
    help: 'largest key a client may write',
    defaultValue: '4096',
    parse: integerIn(1, 64 * 1024),
  }),
  maxValueBytes: option({
    flag: '--max-value-bytes',
    env: 'RAFTSTORE_MAX_VALUE_BYTES',
    valueName: 'bytes',
    help: 'largest value a client may write',
    defaultValue: String(MiB),
    parse: integerIn(1, 64 * MiB),
  }),
  maxTxnOps: option({
    flag: '--max-txn-ops',
    env: 'RAFTSTORE_MAX_TXN_OPS',
    valueName: 'n',
    help: 'most operations in each branch of a transaction',
    defaultValue: '128',
    parse: integerIn(1, 10_000),
  }),
  maxRequestBytes: option({
    flag: '--max-request-bytes',
    env: 'RAFTSTORE_MAX_REQUEST_BYTES',
    valueName: 'bytes',
    help: 'largest gRPC request accepted; must exceed --max-key-bytes + --max-value-bytes',
    defaultValue: String(1.5 * MiB),
    parse: integerIn(1, 128 * MiB),
  }),
  maxInFlightBytes: option({
    flag: '--max-in-flight-bytes',
    env: 'RAFTSTORE_MAX_IN_FLIGHT_BYTES',
    valueName: 'bytes',
    help:
      'bound on the keys and values of the client requests a member serves at once (direct and forwarded); past it ' +
      'requests fail fast with RESOURCE_EXHAUSTED, so a flood of large writes cannot grow the heap without limit',
    defaultValue: String(64 * MiB),
    parse: integerIn(1, 16 * GiB),
  }),
  maxUncommittedBytes: option({
    flag: '--max-uncommitted-bytes',
    env: 'RAFTSTORE_MAX_UNCOMMITTED_BYTES',
    valueName: 'bytes',
    help: 'proposals are refused while the uncommitted log tail is larger than this; at least --max-request-bytes',
    defaultValue: String(64 * MiB),
    parse: integerIn(1, 4 * GiB),
  }),
  requestTimeoutMs: option({
    flag: '--request-timeout-ms',
    env: 'RAFTSTORE_REQUEST_TIMEOUT_MS',
    valueName: 'ms',
    help: 'longest a client request may wait for commit and apply before it fails',
    defaultValue: '5000',
    parse: integerIn(1, MAX_DURATION_MS),
  }),
  shutdownGraceMs: option({
    flag: '--shutdown-grace-ms',
    env: 'RAFTSTORE_SHUTDOWN_GRACE_MS',
    valueName: 'ms',
    help: 'on SIGTERM, time allowed to transfer leadership and drain requests before exiting',
    defaultValue: '10000',
    parse: integerIn(0, MAX_DURATION_MS),
  }),
  logLevel: option({
    flag: '--log-level',
    env: 'RAFTSTORE_LOG_LEVEL',
    valueName: LOG_LEVELS.join('|'),
    help: 'least severe log level written',
    defaultValue: 'info',
    parse: oneOf(LOG_LEVELS),
  }),
  fsync: option({
    flag: '--fsync',
    env: 'RAFTSTORE_FSYNC',
    valueName: 'true|false',
    help: 'fsync the write-ahead log before acknowledging; false loses acknowledged writes on power loss and is for tests only',
    defaultValue: 'true',
    isBoolean: true,
    parse: boolean,
  }),
  tlsCaFile: option({
    flag: '--tls-ca-file',
    env: 'RAFTSTORE_TLS_CA_FILE',
    valueName: 'path',
    help:
      'mutual TLS on every port: the PEM CA certificate that signs every member, client and operator certificate of ' +
      'the cluster; with --tls-cert-file and --tls-key-file (all three or none; re-read every minute, so rotated ' +
      'files are picked up without a restart). Empty: plaintext',
    defaultValue: '',
    parse: optionalPath,
  }),
  tlsCertFile: option({
    flag: '--tls-cert-file',
    env: 'RAFTSTORE_TLS_CERT_FILE',
    valueName: 'path',
    help: "this member's PEM certificate, presented to clients and to peers (it must name the advertised hosts)",
    defaultValue: '',
    parse: optionalPath,
  }),
  tlsKeyFile: option({
    flag: '--tls-key-file',
    env: 'RAFTSTORE_TLS_KEY_FILE',
    valueName: 'path',
    help: 'the PEM private key of --tls-cert-file',
    defaultValue: '',
    parse: optionalPath,
  }),
  traceWrites: option({
    flag: '--trace-writes',
    env: 'RAFTSTORE_TRACE_WRITES',
    valueName: 'dir',
    help:
      'timestamp the stages of sampled log entries (queued, proposed, persisted, sent, received, acked, committed, ' +
      'applied, replied) into dir/<name>.trace.jsonl, flushed every second; `npm run trace:report dir` joins the ' +
      "members' files. Empty: off",
    defaultValue: '',
    parse: optionalPath,
  }),
  traceSample: option({
    flag: '--trace-sample',
    env: 'RAFTSTORE_TRACE_SAMPLE',
    valueName: 'n',
    help: 'with --trace-writes: trace the entries whose log index is a multiple of n',
    defaultValue: '16',
    parse: integerIn(1, 1_000_000),
  }),
} as const;

export type OptionKey = keyof typeof OPTIONS;
export type OptionValue<K extends OptionKey> = (typeof OPTIONS)[K] extends OptionSpec<infer T> ? T : never;

export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];
