// The small client library for a sharded cluster: give it any members (or the client Service) and use keys; it
// routes each key to the shard that owns its slot with that shard's session (retries are applied at most once),
// follows slot moves, and fans prefix reads out over every shard. raftctl is built from the same pieces.

import { PLAINTEXT, type TransportSecurity } from '../security/transport-security.js';
import { Metadata } from '@grpc/grpc-js';
import type { GetResponse, KeyValue, PutResponse, RangeResponse } from '../api/generated/raftstore/v1/kv.js';
import { FailoverClient, unary } from './failover-client.js';
import { rangeEveryShard } from './fan-out.js';
import { KeyRouter } from './key-router.js';

const enc = (s: Uint8Array | string): Uint8Array => (typeof s === 'string' ? new TextEncoder().encode(s) : s);

export class ShardedKvClient {
  readonly client: FailoverClient;
  readonly router: KeyRouter;

  constructor(endpoints: readonly string[], timeoutMs = 5000, security: TransportSecurity = PLAINTEXT) {
    this.client = new FailoverClient(endpoints, timeoutMs, undefined, security);
    this.router = new KeyRouter(this.client);
  }

  put(key: Uint8Array | string, value: Uint8Array | string): Promise<PutResponse> {
    const k = enc(key);
    return this.router.call(k, (shardId, header) =>
      this.client.kv((c, deadline) =>
        unary<PutResponse>((cb) =>
          c.put(
            { shardId, header, key: k, value: enc(value), prevKv: false },
            new Metadata(),
            { deadline },
            cb,
          ),
        ),
      ),
    );
  }

  /** Linearizable unless `serializable`; undefined when the key does not exist. */
  async get(key: Uint8Array | string, serializable = false): Promise<KeyValue | undefined> {
    const k = enc(key);
    const res = await this.router.read(k, (shardId) =>
      this.client.kv((c, deadline) =>
        unary<GetResponse>((cb) =>
          c.get({ shardId, header: undefined, key: k, serializable }, new Metadata(), { deadline }, cb),
        ),
      ),
    );
    return res.kv;
  }

  /** Every key with `prefix`, from every shard, in key order (at most `limit`, 0: the server's maximum each). */
  prefix(prefix: Uint8Array | string, limit = 0, keysOnly = false): Promise<RangeResponse> {
    return rangeEveryShard(this.client, {
      header: undefined,
      range: { kind: { $case: 'prefix', prefix: enc(prefix) } },
      limit,
      keysOnly,
      countOnly: false,
      serializable: false,
    });
  }

  close(): void {
    this.client.close();
  }
}
