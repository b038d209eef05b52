import { createServer, type Server, type Socket } from 'node:net';
import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  MemberRole,
  type MemberListRequest,
  type MemberListResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { raftStatus } from '../../testing/raft/raft-status.js';
import { createClusterService, MEMBER_LIST_FORWARD_MS } from './cluster-service.js';
import { LeaderForwarder } from './leader-forwarder.js';
import { PLAINTEXT_CHANNEL } from '../../testing/transport/plaintext.js';

/** A TCP server that accepts connections and never says a word: a leader whose pod is gone but whose address hangs. */
async function silentServer(): Promise<{ address: string; close: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A follower that still believes in leader `b`, whose address never answers. */
function follower(leaderAddress: string) {
  const status = raftStatus({ vote: 'b' });
  const names: Record<string, { name: string; peerAddress: string; clientAddress: string }> = {
    a: { name: 'demo-0', peerAddress: '127.0.0.1:1', clientAddress: '' },
    b: { name: 'demo-1', peerAddress: leaderAddress, clientAddress: '' },
    c: { name: 'demo-2', peerAddress: '127.0.0.1:2', clientAddress: '' },
  };
  return {
    id: 'a',
    status: () => status,
    directory: {
      get: (id: string) => names[id],
      all: () => Object.entries(names).map(([id, m]) => ({ id, ...m })),
    },
    stateMachine: { revision: 3, dataFormat: 1 },
  };
}

describe('Cluster service: MemberList', () => {
  it('answers with its own view, without a leader, when the leader it knows does not answer in time', async () => {
    const leader = await silentServer();
    const forwarder = new LeaderForwarder(5000, 1 << 20, PLAINTEXT_CHANNEL); // the members' request timeout: longer than the operator's
    try {
      const service = createClusterService({
        shardId: 0,
        memberName: 'demo-0',
        incarnation: 'abc',
        version: '0.1.0',
        replica: follower(leader.address) as unknown as Parameters<typeof createClusterService>[0]['replica'],
        forwarder,
        lastContactMs: (id) => (id === 'c' ? 50 : undefined),
        maxPromoteLagEntries: 100,
        maxInFlight: 10,
      });
      const started = Date.now();
      const answer = await new Promise<MemberListResponse>((resolve, reject) => {
        const call = { request: { shardId: 0 }, metadata: new Metadata() } as unknown as ServerUnaryCall<
          MemberListRequest,
          MemberListResponse
        >;
        service.memberList(call, (error, response) => {
          if (error) reject(new Error(String(error.details)));
          else if (response) resolve(response);
          else reject(new Error('no response'));
        });
      });
      const elapsed = Date.now() - started;
      // Answered after the short forward deadline, not the forwarder's 5 s: inside the operator's 3 s admin deadline.
      expect(elapsed).toBeGreaterThanOrEqual(MEMBER_LIST_FORWARD_MS - 50);
      expect(answer.members.map((m) => [m.name, m.role])).toEqual([
        ['demo-0', MemberRole.MEMBER_ROLE_FOLLOWER],
        ['demo-1', MemberRole.MEMBER_ROLE_FOLLOWER],
        ['demo-2', MemberRole.MEMBER_ROLE_FOLLOWER],
      ]);
      expect(answer.members.map((m) => m.healthy)).toEqual([true, false, true]);
      expect(answer.dataFormat).toBe(1); // its own, as it applied it
    } finally {
      forwarder.close();
      await leader.close();
    }
  }, 4000);
});
