// The operator's settings, from the environment the Helm chart sets (helm/raftstore-operator/templates/
// deployment.yaml). Parsed once at start; a bad value stops the process with a message naming the variable.
import { hostname } from 'node:os';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ListenAddress {
  host: string;
  port: number;
}

export interface LeaderElectionConfig {
  /** False out of cluster when no lease namespace is known and RAFTSTORE_OPERATOR_LEADER_ELECTION=false. */
  enabled: boolean;
  leaseName: string;
  leaseNamespace: string;
  /** This replica's identity in the Lease (the pod name). */
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

export interface OperatorConfig {
  leaderElection: LeaderElectionConfig;
  /** Empty: every namespace. */
  watchNamespaces: string[];
  metricsListen: ListenAddress;
  healthListen: ListenAddress;
  nodeImageRepository: string;
  logLevel: LogLevel;
  /** Reconcile workers (different clusters in parallel; one cluster never twice at once). */
  workers: number;
  /** Every cluster is re-queued this often, even without events. */
  resyncSeconds: number;
  /** Deadline of each admin gRPC call to a member. */
  adminTimeoutMs: number;
  /** Admin calls in flight at once, per reconcile. */
  adminConcurrency: number;
  /** Deadline of each Kubernetes API request. */
  apiTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const PREFIX = 'RAFTSTORE_OPERATOR_';

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name}="${raw}" is not a whole number`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(`${name}=${n} is outside ${min}..${max}`);
  return n;
}

export function parseListen(name: string, value: string): ListenAddress {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(`${name}="${value}" is not host:port (e.g. 0.0.0.0:8080)`);
  }
  const host = m[1] === '' ? '0.0.0.0' : m[1]!.replace(/^\[|\]$/g, '');
  return { host, port };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function parseConfig(env: Env): OperatorConfig {
  const namespaces = str(env, `${PREFIX}WATCH_NAMESPACES`, '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const ns of namespaces) {
    if (!DNS_LABEL.test(ns))
      throw new ConfigError(`${PREFIX}WATCH_NAMESPACES: "${ns}" is not a namespace name`);
  }
  const level = str(env, `${PREFIX}LOG_LEVEL`, 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`${PREFIX}LOG_LEVEL="${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const podNamespace = str(env, 'POD_NAMESPACE', '');
  const leaseNamespace = str(env, `${PREFIX}LEASE_NAMESPACE`, podNamespace);
  const electionFlag = str(env, `${PREFIX}LEADER_ELECTION`, 'true');
  if (electionFlag !== 'true' && electionFlag !== 'false') {
    throw new ConfigError(`${PREFIX}LEADER_ELECTION="${electionFlag}" must be true or false`);
  }
  const leaseDurationSeconds = int(env, `${PREFIX}LEASE_DURATION_SECONDS`, 15, 2, 3600);
  const renewDeadlineSeconds = int(env, `${PREFIX}RENEW_DEADLINE_SECONDS`, 10, 1, 3600);
  const retryPeriodSeconds = int(env, `${PREFIX}RETRY_PERIOD_SECONDS`, 2, 1, 3600);
  // client-go's rules: the leader gives up before a standby may take over, and retries several times before that.
  if (!(leaseDurationSeconds > renewDeadlineSeconds && renewDeadlineSeconds > retryPeriodSeconds)) {
    throw new ConfigError(
      `leader election needs LEASE_DURATION (${leaseDurationSeconds}) > RENEW_DEADLINE (${renewDeadlineSeconds}) > RETRY_PERIOD (${retryPeriodSeconds}) seconds`,
    );
  }
  const enabled = electionFlag === 'true';
  if (enabled && leaseNamespace === '') {
    throw new ConfigError(
      `leader election needs ${PREFIX}LEASE_NAMESPACE (or POD_NAMESPACE); out of cluster set one, or ${PREFIX}LEADER_ELECTION=false`,
    );
  }
  return {
    leaderElection: {
      enabled,
      leaseName: str(env, `${PREFIX}LEASE_NAME`, 'raftstore-operator-leader'),
      leaseNamespace,
      identity: str(env, 'POD_NAME', `${hostname()}-${process.pid}`),
      leaseDurationSeconds,
      renewDeadlineSeconds,
      retryPeriodSeconds,
    },
    watchNamespaces: [...new Set(namespaces)],
    metricsListen: parseListen(
      `${PREFIX}METRICS_LISTEN`,
      str(env, `${PREFIX}METRICS_LISTEN`, '0.0.0.0:8080'),
    ),
    healthListen: parseListen(`${PREFIX}HEALTH_LISTEN`, str(env, `${PREFIX}HEALTH_LISTEN`, '0.0.0.0:8081')),
    nodeImageRepository: str(env, `${PREFIX}NODE_IMAGE_REPOSITORY`, 'raftstore/node'),
    logLevel: level as LogLevel,
    workers: int(env, `${PREFIX}WORKERS`, 4, 1, 64),
    resyncSeconds: int(env, `${PREFIX}RESYNC_SECONDS`, 300, 10, 86_400),
    adminTimeoutMs: int(env, `${PREFIX}ADMIN_TIMEOUT_MS`, 3000, 100, 60_000),
    adminConcurrency: int(env, `${PREFIX}ADMIN_CONCURRENCY`, 8, 1, 256),
    apiTimeoutMs: int(env, `${PREFIX}API_TIMEOUT_MS`, 15_000, 1000, 300_000),
  };
}
