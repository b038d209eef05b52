import { createServer } from 'node:net';
import { Server, ServerCredentials, status, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ClusterService } from '../../../node/shared/api/generated/raftstore/v1/cluster.js';
import { ADMIN_RECONNECT, DEFAULT_GRPC_ADMIN, GrpcAdminApi } from './admin-api.js';

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
    // Every field of the response: the generated encoder writes each one it is given.
    memberList: (_call: unknown, cb: (e: null, r: { members: []; dataFormat: number }) => void) =>
      cb(null, { members: [], dataFormat: 1 }),
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
  // A pod deleted and recreated by its StatefulSet often comes back at the same IP. While it was gone the operator
  // kept asking, and the channel's reconnect backoff grew; during the backoff the channel refuses every call.
  it('backs off at most 2 s between connection attempts (grpc would wait up to 120 s)', () => {
    expect(ADMIN_RECONNECT['grpc.max_reconnect_backoff_ms']).toBeLessThanOrEqual(2000);
  });

  it('reaches a member back at an address that refused it for a while, within the backoff cap', async () => {
    const port = await freePort();
    const admin = new GrpcAdminApi({ ...DEFAULT_GRPC_ADMIN, timeoutMs: 1000 });
    const address = `127.0.0.1:${port}`;
    // 9 s of a pod being gone: with grpc's default the next attempt would now be 5-8 s away.
    const goneUntil = Date.now() + 9000;
    while (Date.now() < goneUntil) {
      await expect(admin.memberList(address, 0)).rejects.toThrow(/MemberList at 127\.0\.0\.1/);
      await new Promise((r) => setTimeout(r, 200));
    }
    const server = await member(port);
    const back = Date.now();
    try {
      for (;;) {
        const ok = await admin.memberList(address, 0).then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (Date.now() - back > 3000) throw new Error('member not reached within 3 s of coming back');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      admin.close();
      server.forceShutdown();
    }
  }, 20_000);
});
