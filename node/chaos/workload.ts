// Concurrent clients against the cluster, recording a history for the linearizability checker. Each client is its
// own session (clientId), talks to one member (rotating to the next on failure, so forwarding is exercised), and
// runs one operation at a time: put of a unique value, linearizable get, or compare-and-set through Txn, on a small
// key set so that operations conflict. A failed or timed-out write is recorded with an unknown outcome and its
// value is never written again; a failed read is dropped (it had no effect). In a sharded cluster each connection
// routes by key (routed-kv.ts); the history and its rules are the same.
import type { Prng } from '../src/random/prng.js';
import type { KvInput, KvOutput } from '../testing/lincheck/kv-model.js';
import type { KvOperation } from './lost-writes.js';
import { KvSession, SequenceSource } from './kv-session.js';
import type { KvOps } from './routed-kv.js';

export interface WorkloadOptions {
  readonly clients: number;
  /** The keys the clients pick from: a count n means keyName(0) .. keyName(n - 1). */
  readonly keys: number | readonly string[];
  /** Per-operation gRPC deadline. */
  readonly opDeadlineMs: number;
  /** Current client endpoints (members come and go). */
  readonly endpoints: () => readonly string[];
  /** Monotonic milliseconds shared by every record of a run. */
  readonly now: () => number;
  readonly rng: Prng;
  /** Upper bound on operations per client, so a history stays checkable. */
  readonly maxOpsPerClient: number;
  readonly runId: string;
  /**
   * How client `client` talks to the cluster through the member at `endpoint`. Default: one session with shard 0's
   * group (a cluster of one shard), its sequence kept across connections.
   */
  readonly connect?: (client: number, endpoint: string) => KvOps;
}

export function keyName(index: number): string {
  return `k${index}`;
}

export class Workload {
  readonly history: KvOperation[] = [];
  private stopping = false;
  private readonly done: Promise<void>[] = [];
  /** The last value each client saw per key, used as a cas expectation. */
  private readonly seen = new Map<string, string | null>();

  private readonly keys: readonly string[];

  constructor(private readonly options: WorkloadOptions) {
    const keys = options.keys;
    this.keys = typeof keys === 'number' ? Array.from({ length: keys }, (_, k) => keyName(k)) : keys;
    if (this.keys.length === 0) throw new Error('the workload needs at least one key');
  }

  start(): void {
    for (let c = 0; c < this.options.clients; c++) this.done.push(this.client(c));
  }

  /** Lets every in-flight operation finish (each is bounded by its deadline) and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.done);
  }

  private async client(id: number): Promise<void> {
    const o = this.options;
    let endpointIndex = id;
    let session: KvOps | undefined;
    const sequence = new SequenceSource();
    const connect =
      o.connect ??
      ((client: number, endpoint: string): KvOps =>
        new KvSession(endpoint, `chaos-${o.runId}-c${client}`, o.opDeadlineMs, sequence));
    let counter = 0;
    let consecutiveFailures = 0;
    try {
      for (let n = 0; n < o.maxOpsPerClient && !this.stopping; n++) {
        const endpoints = o.endpoints();
        if (endpoints.length === 0) {
          await sleep(50);
          continue;
        }
        const endpoint = endpoints[endpointIndex % endpoints.length]!;
        if (session?.endpoint !== endpoint) {
          session?.close();
          session = connect(id, endpoint);
        }
        const key = this.keys[o.rng.int(0, this.keys.length - 1)]!;
        const roll = o.rng.float();
        counter += 1;
        const value = `c${id}-${counter}`;
        let input: KvInput;
        if (roll < 0.4) input = { op: 'put', key, value };
        else if (roll < 0.75) input = { op: 'get', key };
        else input = { op: 'cas', key, expected: this.seen.get(key) ?? null, value };
        const call = o.now();
        const output = await this.invoke(session, input);
        const ret = o.now();
        if (output === undefined) {
          consecutiveFailures += 1;
          endpointIndex += 1;
          // Back off a little so a dead cluster is not hammered; bounded at 200 ms.
          await sleep(Math.min(200, 20 * consecutiveFailures));
          if (input.op !== 'get') this.history.push({ client: id, input, call });
          continue;
        }
        consecutiveFailures = 0;
        if (output.op === 'get') this.seen.set(key, output.value);
        this.history.push({ client: id, input, call, output, return: ret });
      }
    } finally {
      session?.close();
    }
  }

  private async invoke(session: KvOps, input: KvInput): Promise<KvOutput | undefined> {
    try {
      switch (input.op) {
        case 'put':
          await session.put(input.key, input.value);
          return { op: 'put' };
        case 'get':
          return { op: 'get', value: await session.get(input.key) };
        case 'cas':
          return { op: 'cas', succeeded: await session.cas(input.key, input.expected, input.value) };
        case 'delete':
          throw new Error('the chaos workload does not delete');
      }
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the chaos workload')) throw error;
      return undefined;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
