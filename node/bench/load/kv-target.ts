// One interface over both systems' gRPC KV APIs, so the same load loop drives raftstore and etcd with the same
// client stack (@grpc/grpc-js), the same channels and the same deadlines.
import { channelCredentials, PLAINTEXT } from '../../shared/security/transport-security.js';
import { Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { KVClient, type PutResponse } from '../../shared/api/generated/raftstore/v1/kv.js';
import { etcdService } from '../etcd/etcd-api.js';
import type { SystemName } from './protocol.js';

export interface KvTarget {
  /** Resolves with the name of the member that answered ('' when the system does not say). */
  put(key: Buffer, value: Buffer, deadline_ms: number): Promise<string>;
  get(key: Buffer, serializable: boolean, deadline_ms: number): Promise<void>;
  waitReady(deadline_ms: number): Promise<void>;
  close(): void;
}

/** Separate subchannel pools, so each channel really has its own TCP connection (grpc-js shares them otherwise). */
const CHANNEL_OPTIONS = {
  'grpc.use_local_subchannel_pool': 1,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
};

function waitReady(client: Client, deadline_ms: number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + deadline_ms, (err) => (err ? reject(err) : resolve())),
  );
}

function unaryDone(resolve: () => void, reject: (e: Error) => void) {
  return (err: ServiceError | null): void => (err ? reject(err) : resolve());
}

class RaftstoreTarget implements KvTarget {
  private readonly client: KVClient;
  /** @param shardId the shard every request names; undefined: none, the member routes each key by its slot. */
  constructor(
    address: string,
    private readonly shardId: number | undefined,
  ) {
    this.client = new KVClient(address, channelCredentials(PLAINTEXT, { watch: false }), CHANNEL_OPTIONS);
  }
  put(key: Buffer, value: Buffer, deadline_ms: number): Promise<string> {
    return new Promise((resolve, reject) =>
      this.client.put(
        { shardId: this.shardId, header: undefined, key, value, prevKv: false },
        new Metadata(),
        { deadline: Date.now() + deadline_ms },
        (err: ServiceError | null, res: PutResponse) =>
          err ? reject(err) : resolve(res.header?.member ?? ''),
      ),
    );
  }
  get(key: Buffer, serializable: boolean, deadline_ms: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.get(
        { shardId: this.shardId, header: undefined, key, serializable },
        new Metadata(),
        { deadline: Date.now() + deadline_ms },
        unaryDone(resolve, reject),
      ),
    );
  }
  waitReady(deadline_ms: number): Promise<void> {
    return waitReady(this.client, deadline_ms);
  }
  close(): void {
    this.client.close();
  }
}

/** The slice of etcd's KV service the bench calls; the stub is built at runtime from etcd's own rpc.proto. */
interface EtcdKvStub extends Client {
  put(
    req: { key: Buffer; value: Buffer },
    md: Metadata,
    opts: { deadline: number },
    cb: (err: ServiceError | null) => void,
  ): void;
  range(
    req: { key: Buffer; serializable: boolean },
    md: Metadata,
    opts: { deadline: number },
    cb: (err: ServiceError | null) => void,
  ): void;
}

class EtcdTarget implements KvTarget {
  private readonly client: EtcdKvStub;
  constructor(address: string) {
    const Kv = etcdService<EtcdKvStub>('KV');
    this.client = new Kv(address, channelCredentials(PLAINTEXT, { watch: false }), CHANNEL_OPTIONS);
  }
  put(key: Buffer, value: Buffer, deadline_ms: number): Promise<string> {
    return new Promise((resolve, reject) =>
      this.client.put(
        { key, value },
        new Metadata(),
        { deadline: Date.now() + deadline_ms },
        (err: ServiceError | null) => (err ? reject(err) : resolve('')),
      ),
    );
  }
  get(key: Buffer, serializable: boolean, deadline_ms: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.range(
        { key, serializable },
        new Metadata(),
        { deadline: Date.now() + deadline_ms },
        unaryDone(resolve, reject),
      ),
    );
  }
  waitReady(deadline_ms: number): Promise<void> {
    return waitReady(this.client, deadline_ms);
  }
  close(): void {
    this.client.close();
  }
}

/**
 * `routeByKey`: raftstore requests name no shard, so the member routes each key by its slot (sharded runs); else
 * they name shard 0, the only one of an unsharded cluster.
 */
export function openTarget(system: SystemName, address: string, routeByKey = false): KvTarget {
  return system === 'raftstore'
    ? new RaftstoreTarget(address, routeByKey ? undefined : 0)
    : new EtcdTarget(address);
}
