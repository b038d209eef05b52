// etcd's gRPC API for the benchmark, loaded at run time from the protos the etcd3 package ships, so the same
// client stack (@grpc/grpc-js) talks to etcd as to raftstore.
import { loadPackageDefinition, type ChannelCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type StubConstructor<T> = new (address: string, creds: ChannelCredentials, opts: object) => T;

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
