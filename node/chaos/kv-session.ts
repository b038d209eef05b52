// One chaos client's connection to the cluster: typed promise wrappers over the generated grpc-js stubs, each call
// with its own deadline. Every write carries the session's RequestHeader {clientId, sequence} so that a write the
// server forwards or retries internally is applied at most once. A session belongs to one group's session table, so
// every request names that group (shard_id; 0 in a cluster of one shard) and a member of another shard forwards it.
import { channelCredentials, PLAINTEXT } from '../shared/security/transport-security.js';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { isSlotMoving, wrongShardRedirect } from '../shared/client/key-router.js';
import { unreachableShardOf } from '../shared/client/shard-unreachable.js';
import {
  Compare_Operator,
  KVClient,
  type GetResponse,
  type PutResponse,
  type SlotMapResponse,
  type TxnResponse,
} from '../shared/api/generated/raftstore/v1/kv.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A slot refusal a group answered with (its redirect trailer): the slot is moving, or another shard serves it. The
 * group refused the request before applying anything, so it may be sent again, to the owner or after the move.
 */
export type SlotRefusal =
  | { readonly kind: 'moving' }
  /** The member could reach no member of the shard asked for (say, one a reshard retired): sent nowhere. */
  | { readonly kind: 'unreachable'; readonly shard: number }
  | { readonly kind: 'wrongShard'; readonly slot: number; readonly owner: number | undefined };

/**
 * A failed call with its gRPC status code. The harness treats every failed write as an unknown outcome, except a
 * slot refusal, which a routed client follows (and records as unknown only if it gives up).
 */
export class KvCallError extends Error {
  override readonly name = 'KvCallError';
  constructor(
    readonly code: number,
    message: string,
    readonly refusal?: SlotRefusal,
  ) {
    super(message);
  }
}

function toCallError(err: ServiceError): KvCallError {
  const message = `${err.code}: ${err.details}`;
  if (isSlotMoving(err)) return new KvCallError(err.code, message, { kind: 'moving' });
  const unreachable = unreachableShardOf(err);
  if (unreachable !== undefined)
    return new KvCallError(err.code, message, { kind: 'unreachable', shard: unreachable });
  const redirect = wrongShardRedirect(err);
  if (redirect === undefined) return new KvCallError(err.code, message);
  return new KvCallError(err.code, message, {
    kind: 'wrongShard',
    slot: redirect.slot,
    owner: redirect.owner,
  });
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
    readonly shardId = 0,
  ) {
    this.client = new KVClient(endpoint, channelCredentials(PLAINTEXT, { watch: false }), {
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
      shardId: this.shardId,
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
    const req = {
      shardId: this.shardId,
      // No session header: a read changes nothing, and a group starts a session only on a write with sequence 1,
      // so a read that took sequence 1 left every later write of the session refused ("no session").
      header: undefined,
      key: encoder.encode(key),
      serializable: false,
    };
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
      shardId: this.shardId,
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

  /** The answering member's slot map: its own group's slots exactly (`shardId` says which), hints for the rest. */
  slotMap(): Promise<SlotMapResponse> {
    return new Promise((resolve, reject) => {
      this.client.slotMap(
        {},
        new Metadata(),
        this.deadline(),
        (err: ServiceError | null, res: SlotMapResponse) => {
          if (err) reject(toCallError(err));
          else resolve(res);
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
