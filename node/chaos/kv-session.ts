// One chaos client's connection to the cluster: typed promise wrappers over the generated grpc-js stubs, each call
// with its own deadline. Every call carries the session's RequestHeader {clientId, sequence} so that a write the
// server forwards or retries internally is applied at most once.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  Compare_Operator,
  KVClient,
  type GetResponse,
  type PutResponse,
  type TxnResponse,
} from '../shared/api/generated/raftstore/v1/kv.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A failed call with its gRPC status code. The harness treats every failed write as an unknown outcome. */
export class KvCallError extends Error {
  override readonly name = 'KvCallError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function toCallError(err: ServiceError): KvCallError {
  return new KvCallError(err.code, `${err.code}: ${err.details}`);
}

/**
 * A client's request numbering. It outlives connections: a client that reconnects elsewhere must keep counting,
 * or the server's session table answers a new request with the cached response of an old one.
 */
export class SequenceSource {
  private last = 0;
  next(): number {
    this.last += 1;
    return this.last;
  }
}

export class KvSession {
  private readonly client: KVClient;

  constructor(
    readonly endpoint: string,
    readonly clientId: string,
    private readonly deadlineMs: number,
    private readonly sequence: SequenceSource,
  ) {
    this.client = new KVClient(endpoint, credentials.createInsecure(), {
      // Fail fast while a member is down instead of queueing behind reconnect backoff.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 500,
    });
  }

  private header(): { clientId: string; sequence: number } {
    return { clientId: this.clientId, sequence: this.sequence.next() };
  }

  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.deadlineMs };
  }

  put(key: string, value: string): Promise<void> {
    const req = {
      shardId: 0,
      header: this.header(),
      key: encoder.encode(key),
      value: encoder.encode(value),
      prevKv: false,
    };
    return new Promise((resolve, reject) => {
      this.client.put(req, new Metadata(), this.deadline(), (err: ServiceError | null, _res: PutResponse) => {
        if (err) reject(toCallError(err));
        else resolve();
      });
    });
  }

  /** A linearizable (ReadIndex) read; null when the key is absent. */
  get(key: string): Promise<string | null> {
    const req = { shardId: 0, header: this.header(), key: encoder.encode(key), serializable: false };
    return new Promise((resolve, reject) => {
      this.client.get(req, new Metadata(), this.deadline(), (err: ServiceError | null, res: GetResponse) => {
        if (err) reject(toCallError(err));
        else resolve(res.kv ? decoder.decode(res.kv.value) : null);
      });
    });
  }

  /** Compare-and-set through Txn: sets `value` when the key holds `expected` (null = the key is absent). */
  cas(key: string, expected: string | null, value: string): Promise<boolean> {
    const k = encoder.encode(key);
    const compare =
      expected === null
        ? {
            key: k,
            operator: Compare_Operator.OPERATOR_EQUAL,
            target: { $case: 'exists' as const, exists: false },
          }
        : {
            key: k,
            operator: Compare_Operator.OPERATOR_EQUAL,
            target: { $case: 'value' as const, value: encoder.encode(expected) },
          };
    const req = {
      shardId: 0,
      header: this.header(),
      compare: [compare],
      success: [
        { op: { $case: 'put' as const, put: { key: k, value: encoder.encode(value), prevKv: false } } },
      ],
      failure: [],
    };
    return new Promise((resolve, reject) => {
      this.client.txn(req, new Metadata(), this.deadline(), (err: ServiceError | null, res: TxnResponse) => {
        if (err) reject(toCallError(err));
        else resolve(res.succeeded);
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
