// What the process tests of one member's admin calls share: a bounded wait on a probe, and one admin call to one
// member as the operator makes it (its own deadline, no failover).
import { type ServiceError } from '@grpc/grpc-js';
import { channelCredentials } from '../../shared/security/transport-security.js';
import { ClusterClient } from '../../shared/api/generated/raftstore/v1/cluster.js';
import { unary } from '../../shared/client/failover-client.js';
import type { LocalCluster } from '../../src/local-cluster/local-cluster.js';

/** Polls `probe` every 100 ms until it returns a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One admin call to member `name` at its client port, with a deadline of `timeoutMs`. */
export async function memberAdmin<T>(
  cluster: LocalCluster,
  name: string,
  invoke: (c: ClusterClient, deadline: Date, cb: (err: ServiceError | null, res: T) => void) => void,
  timeoutMs: number,
): Promise<T> {
  const client = new ClusterClient(
    `127.0.0.1:${cluster.member(name).clientPort}`,
    channelCredentials(cluster.security, { watch: false }),
  );
  try {
    return await unary<T>((cb) => invoke(client, new Date(Date.now() + timeoutMs), cb));
  } finally {
    client.close();
  }
}
