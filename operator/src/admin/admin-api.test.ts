import { createServer } from 'node:net';
import { Server, ServerCredentials, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ClusterService } from '../../../node/shared/api/generated/raftstore/v1/cluster.js';
import { DEFAULT_GRPC_ADMIN, GrpcAdminApi } from './admin-api.js';

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** A member that answers MemberList with an empty list (the admin client reports that as no members). */
async function member(port: number): Promise<Server> {
  const server = new Server();
  const unimplemented = (_call: unknown, cb: (e: { code: number; details: string }) => void): void =>
    cb({ code: status.UNIMPLEMENTED, details: 'not in this test' });
  const impl: UntypedServiceImplementation = {
    memberList: (_call: unknown, cb: (e: null, r: { members: [] }) => void) => cb(null, { members: [] }),
    addLearner: unimplemented,
    promote: unimplemented,
    removeMember: unimplemented,
    transferLeadership: unimplemented,
    status: unimplemented,
    snapshot: unimplemented,
  };
  server.addService(ClusterService, impl);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) =>
      e ? reject(e) : resolve(),
    ),
  );
  return server;
}

describe('GrpcAdminApi', () => {
  // A pod deleted and recreated by its StatefulSet often comes back at the same IP. A channel left in reconnect
  // backoff from the old pod would refuse calls for as long as the backoff (grpc's grows to 120 s): the operator saw
  // a new member 55 s after its pod started. A connection failure drops the channel; the next call connects afresh.
  it('reaches a member that comes back at an address that just refused it', async () => {
    const port = await freePort();
    const admin = new GrpcAdminApi({ ...DEFAULT_GRPC_ADMIN, timeoutMs: 2000 });
    const address = `127.0.0.1:${port}`;
    await expect(admin.memberList(address, 0)).rejects.toThrow(/MemberList at 127\.0\.0\.1/);
    const server = await member(port);
    try {
      await expect(admin.memberList(address, 0)).resolves.toEqual([]);
    } finally {
      admin.close();
      server.forceShutdown();
    }
  });
});
