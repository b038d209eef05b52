// One interface over both systems' gRPC KV APIs, so the same load loop drives raftstore and etcd with the same
// client stack (@grpc/grpc-js), the same channels and the same deadlines.
import { credentials, loadPackageDefinition, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { KVClient } from '../../shared/api/generated/raftstore/v1/kv.js';
import type { SystemName } from './protocol.js';

export interface KvTarget {
  put(key: Buffer, value: Buffer, deadline_ms: number): Promise<void>;
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
  constructor(address: string) {
    this.client = new KVClient(address, credentials.createInsecure(), CHANNEL_OPTIONS);
  }
  put(key: Buffer, value: Buffer, deadline_ms: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.put(
        { shardId: 0, header: undefined, key, value, prevKv: false },
        new Metadata(),
        { deadline: Date.now() + deadline_ms },
        unaryDone(resolve, reject),
      ),
    );
  }
  get(key: Buffer, serializable: boolean, deadline_ms: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.get(
        { shardId: 0, header: undefined, key, serializable },
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
type StubConstructor<T> = new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  opts: object,
) => T;

/** etcd's protos as shipped in the etcd3 package (rpc.proto, kv.proto, auth.proto). */
export function etcdProtoPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('etcd3/package.json')), 'proto/rpc.proto');
}

let etcdPackage: Record<string, unknown> | undefined;
/** Service constructors of etcdserverpb by name (KV, Maintenance, Cluster, ...). */
export function etcdService<T>(name: string): StubConstructor<T> {
  if (!etcdPackage) {
    const def = loadSync(etcdProtoPath(), { keepCase: true, longs: String, enums: String, defaults: true });
    const pkg = loadPackageDefinition(def).etcdserverpb;
    if (typeof pkg !== 'object' || pkg === null) throw new Error('etcdserverpb missing from etcd rpc.proto');
    etcdPackage = pkg as Record<string, unknown>;
  }
  const ctor = etcdPackage[name];
  if (typeof ctor !== 'function') throw new Error(`etcd service ${name} missing from rpc.proto`);
  return ctor as StubConstructor<T>;
}

class EtcdTarget implements KvTarget {
  private readonly client: EtcdKvStub;
  constructor(address: string) {
    const Kv = etcdService<EtcdKvStub>('KV');
    this.client = new Kv(address, credentials.createInsecure(), CHANNEL_OPTIONS);
  }
  put(key: Buffer, value: Buffer, deadline_ms: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.put(
        { key, value },
        new Metadata(),
        { deadline: Date.now() + deadline_ms },
        unaryDone(resolve, reject),
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

export function openTarget(system: SystemName, address: string): KvTarget {
  return system === 'raftstore' ? new RaftstoreTarget(address) : new EtcdTarget(address);
}
