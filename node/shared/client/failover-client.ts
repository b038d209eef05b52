// Calls a member, moving on to the next endpoint when one is down or not able to serve (UNAVAILABLE), so a
// client keeps working through a leader change or a dead member. Writes carry a session header (client id +
// sequence): a retry of the same write is applied at most once, so retrying on any transport error is safe.
import { status, type ServiceError } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { ClusterClient } from '../api/generated/raftstore/v1/cluster.js';
import type { RequestHeader } from '../api/generated/raftstore/v1/common.js';
import { KVClient } from '../api/generated/raftstore/v1/kv.js';
import { channelCredentials, PLAINTEXT, type TransportSecurity } from '../security/transport-security.js';

const RETRYABLE = new Set<number>([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.RESOURCE_EXHAUSTED]);

export class FailoverClient {
  private readonly kvClients: KVClient[];
  private readonly clusterClients: ClusterClient[];
  private preferred = 0;
  private readonly clientId = randomUUID();
  /** Per shard: a group's session table knows only the requests that group applied, so each has its own sequence. */
  private readonly sequences = new Map<number, number>();

  constructor(
    readonly endpoints: readonly string[],
    private readonly timeoutMs: number,
    private readonly attempts = Math.max(3, endpoints.length * 2),
    security: TransportSecurity = PLAINTEXT,
  ) {
    const opts = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
    const creds = channelCredentials(security, { watch: false });
    this.kvClients = endpoints.map((e) => new KVClient(e, creds, opts));
    this.clusterClients = endpoints.map((e) => new ClusterClient(e, creds, opts));
  }

  /**
   * A fresh session header for one logical write to `shard`; reuse it for that write's retries. Each shard gets its
   * own client id (`<id>/<shard>`, shard 0 the bare id) and sequence, starting at 1, as its group's session table
   * requires.
   */
  nextHeader(shard = 0): RequestHeader {
    const sequence = (this.sequences.get(shard) ?? 0) + 1;
    this.sequences.set(shard, sequence);
    return { clientId: shard === 0 ? this.clientId : `${this.clientId}/${shard}`, sequence };
  }

  kv<T>(call: (client: KVClient, deadline: Date) => Promise<T>): Promise<T> {
    return this.withFailover(this.kvClients, call);
  }

  cluster<T>(call: (client: ClusterClient, deadline: Date) => Promise<T>): Promise<T> {
    return this.withFailover(this.clusterClients, call);
  }

  /** Calls one specific endpoint, without failover (status of each member). */
  clusterAt<T>(index: number, call: (client: ClusterClient, deadline: Date) => Promise<T>): Promise<T> {
    return call(this.clusterClients[index]!, new Date(Date.now() + this.timeoutMs));
  }

  private async withFailover<C, T>(
    clients: C[],
    call: (client: C, deadline: Date) => Promise<T>,
  ): Promise<T> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      const i = (this.preferred + attempt) % clients.length;
      try {
        const result = await call(clients[i]!, new Date(Date.now() + this.timeoutMs));
        this.preferred = i;
        return result;
      } catch (err) {
        lastError = err;
        const code = (err as Partial<ServiceError>).code;
        if (code === undefined || !RETRYABLE.has(code)) throw err;
        // Leader elections take a few hundred milliseconds; pace the retries a little.
        await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 500)));
      }
    }
    throw lastError;
  }

  close(): void {
    for (const c of [...this.kvClients, ...this.clusterClients]) c.close();
  }
}

/** Adapts one grpc-js unary call (given its callback) to a promise. */
export function unary<Res>(
  invoke: (callback: (err: ServiceError | null, res: Res) => void) => unknown,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    invoke((err, res) => (err ? reject(err) : resolve(res)));
  });
}

export function describeError(err: unknown): string {
  const e = err as Partial<ServiceError>;
  if (typeof e.code === 'number') return `${status[e.code] ?? e.code}: ${e.details ?? e.message ?? ''}`;
  return err instanceof Error ? err.message : String(err);
}
