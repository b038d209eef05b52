// SetDataFormat on a leader whose peers are real gRPC servers on loopback answering Status as a given build would:
// raising the format is refused while a member cannot read it or cannot be asked, and proposes one entry otherwise.
import { createServer, type Socket } from 'node:net';
import {
  Metadata,
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type ServiceError,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  ClusterService,
  StatusResponse,
  type ClusterServer,
  type MemberListResponse,
  type SetDataFormatRequest,
  type SetDataFormatResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { MAX_DATA_FORMAT } from '../../shared/versioning/data-format.js';
import { KvStateMachine } from '../kv/state-machine.js';
import { raftStatus } from '../../testing/raft/raft-status.js';
import { createClusterService } from './cluster-service.js';
import { createDataFormatHandler } from './data-format-admin.js';
import { LeaderForwarder } from './leader-forwarder.js';
import { PLAINTEXT_CHANNEL } from '../../testing/transport/plaintext.js';

type Closer = () => Promise<void>;
const closers: Closer[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function listen(server: Server): Promise<string> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  closers.push(() => new Promise((resolve) => server.tryShutdown(() => resolve())));
  return `127.0.0.1:${port}`;
}

/** A member that answers Status as `answer` says (the rest of the service is unimplemented). */
function peer(answer: Partial<StatusResponse>): Promise<string> {
  const server = new Server();
  const status = (_call: unknown, callback: sendUnaryData<StatusResponse>): void =>
    callback(null, StatusResponse.fromPartial(answer));
  server.addService(ClusterService, { status });
  return listen(server);
}

/** An address nothing listens on any more: a member whose pod is gone. */
async function deadAddress(): Promise<string> {
  const server = new Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  server.forceShutdown();
  return `127.0.0.1:${port}`;
}

/** A TCP server that accepts connections and never answers: a member that hangs. */
async function silentAddress(): Promise<string> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  });
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

const current = (id: string, version = '0.2.0'): Partial<StatusResponse> => ({
  id,
  version,
  dataFormat: 1,
  maxDataFormat: MAX_DATA_FORMAT,
});

/**
 * Member a (demo-0) of a group with voter b (demo-1) and learner c (demo-2) at the given peer addresses: its leader
 * unless `leader` names another. Proposals apply at once to a real state machine.
 */
function member(addresses: { b: string; c: string }, leader = 'a') {
  const machine = new KvStateMachine();
  const names: Record<string, { name: string; peerAddress: string; clientAddress: string }> = {
    a: { name: 'demo-0', peerAddress: '127.0.0.1:1', clientAddress: '' },
    b: { name: 'demo-1', peerAddress: addresses.b, clientAddress: '' },
    c: { name: 'demo-2', peerAddress: addresses.c, clientAddress: '' },
  };
  const st = raftStatus({
    id: 'a',
    leader,
    role: leader === 'a' ? 'leader' : 'follower',
    config: { voters: ['a', 'b'], learners: ['c'] },
  });
  const log = { proposed: 0, snapshots: 0 };
  const replica = {
    id: 'a',
    status: () => st,
    directory: {
      get: (id: string) => names[id],
      all: () => Object.entries(names).map(([id, m]) => ({ id, ...m })),
    },
    stateMachine: machine,
    linearizableBarrier: () => Promise.resolve(),
    propose: (data: Uint8Array) => Promise.resolve(machine.applyEntry(++log.proposed, data)),
    requestSnapshot: () => {
      log.snapshots++;
      return Promise.resolve({
        metadata: { index: machine.appliedIndex, term: 4 },
        data: machine.snapshot(),
      });
    },
  };
  const forwarder = new LeaderForwarder(5000, 1 << 20, PLAINTEXT_CHANNEL);
  closers.push(() => Promise.resolve(forwarder.close()));
  const service = createClusterService({
    shardId: 0,
    memberName: 'demo-0',
    incarnation: 'abc',
    version: '0.2.0',
    replica: replica as unknown as Parameters<typeof createClusterService>[0]['replica'],
    forwarder,
    lastContactMs: () => 10,
    maxPromoteLagEntries: 100,
    maxInFlight: 10,
  });
  return { machine, service, log, replica, forwarder };
}

function call<Req, Res>(
  handler: (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void,
  request: Req,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    handler(
      { request, metadata: new Metadata() } as unknown as ServerUnaryCall<Req, Res>,
      (error, response) => {
        // The code, details and metadata the handler answered, on an Error, as a client sees a ServiceError.
        if (error) reject(Object.assign(new Error(error.details ?? ''), error));
        else resolve(response!);
      },
    );
  });
}

const setFormat = (service: ClusterServer, format: number): Promise<SetDataFormatResponse> =>
  call<SetDataFormatRequest, SetDataFormatResponse>(service.setDataFormat, { shardId: 0, format });

const failure = (p: Promise<unknown>): Promise<ServiceError> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: ServiceError) => err,
  );

describe('Cluster service: SetDataFormat', () => {
  it('refuses a format outside the ones this build knows, naming the range', async () => {
    const m = member({ b: await deadAddress(), c: await deadAddress() });
    for (const format of [0, MAX_DATA_FORMAT + 1]) {
      const err = await failure(setFormat(m.service, format));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toBe(
        `data format ${format} is outside the formats this member knows, 1 to ${MAX_DATA_FORMAT}`,
      );
    }
    expect(m.log.proposed).toBe(0);
  });

  it('refuses to raise the format while a member’s build cannot read it, naming the member and its version', async () => {
    // The learner runs 0.1.0, which predates data formats: its Status has no max_data_format (0, read as 1).
    const m = member({ b: await peer(current('b')), c: await peer({ id: 'c', version: '0.1.0' }) });
    const err = await failure(setFormat(m.service, 2));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe(
      'member demo-2 (version 0.1.0) reads data formats up to 1: upgrade it before raising the format to 2',
    );
    expect(err.metadata.get('x-raftstore-not-applied')).toEqual(['1']);
    expect(m.log.proposed).toBe(0);
    expect(m.machine.dataFormat).toBe(1);
  });

  it('refuses to raise the format while a member does not answer, naming it and the error', async () => {
    const m = member({ b: await deadAddress(), c: await peer(current('c')) });
    const err = await failure(setFormat(m.service, 2));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toMatch(
      /^member demo-1 did not say which data formats it reads \(UNAVAILABLE: .+\); every member must before the format is raised to 2$/,
    );
    expect(m.log.proposed).toBe(0);
  });

  it('asks each member with a deadline: one that hangs blocks the raise, not the caller', async () => {
    const m = member({ b: await peer(current('b')), c: await silentAddress() });
    const handler = createDataFormatHandler({
      shardId: 0,
      replica: m.replica as unknown as Parameters<typeof createDataFormatHandler>[0]['replica'],
      forwarder: m.forwarder,
      limit: { current: 0, max: 10 },
      header: () => ({ revision: 0, leader: 'demo-0', member: 'demo-0', term: 4 }),
      checkShard: () => undefined,
      onLeader: (_call, local) => local(),
      now: Date.now,
      peerStatusMs: 200,
    });
    const started = Date.now();
    const err = await failure(
      call<SetDataFormatRequest, SetDataFormatResponse>(handler.setDataFormat, { shardId: 0, format: 2 }),
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toMatch(
      /^member demo-2 did not say which data formats it reads \(DEADLINE_EXCEEDED: /,
    );
    expect(m.log.proposed).toBe(0);
  });

  it('refuses a member replaced at the same address: the one in the configuration is not the one answering', async () => {
    const m = member({ b: await peer(current('b-2')), c: await peer(current('c')) });
    const err = await failure(setFormat(m.service, 2));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toMatch(/^member demo-1 did not say .* answers as member b-2, not b\)/);
  });

  it('answers the format in effect with index 0 and proposes nothing, even with members unreachable', async () => {
    const m = member({ b: await deadAddress(), c: await deadAddress() });
    expect(await setFormat(m.service, 1)).toMatchObject({ previous: 1, format: 1, index: 0 });
    expect(m.log.proposed).toBe(0);
  });

  it('raises the format once every member reads it; lowering needs no member and waits for a snapshot', async () => {
    const m = member({ b: await peer(current('b')), c: await peer(current('c')) });
    const raised = await setFormat(m.service, 2);
    expect(raised).toMatchObject({ previous: 1, format: 2, index: 1 });
    expect(raised.header?.member).toBe('demo-0');
    expect(m.machine.dataFormat).toBe(2);
    expect(m.log.snapshots).toBe(0);
    const st = await call(m.service.status, { shardId: 0 });
    expect({ dataFormat: st.dataFormat, maxDataFormat: st.maxDataFormat }).toEqual({
      dataFormat: 2,
      maxDataFormat: MAX_DATA_FORMAT,
    });
    const list = await call<{ shardId: number }, MemberListResponse>(m.service.memberList, { shardId: 0 });
    expect(list.dataFormat).toBe(2);
    // Again: nothing to do.
    expect(await setFormat(m.service, 2)).toMatchObject({ previous: 2, format: 2, index: 0 });

    // Before a downgrade, with the members already gone: lowering asks none of them.
    const lowering = member({ b: await deadAddress(), c: await deadAddress() });
    lowering.machine.apply(1, { timestampMs: 0, op: { kind: 'setDataFormat', format: 2 } });
    lowering.log.proposed = 1;
    expect(await setFormat(lowering.service, 1)).toMatchObject({ previous: 2, format: 1, index: 2 });
    expect(lowering.machine.dataFormat).toBe(1);
    expect(lowering.log.snapshots).toBe(1);
  });

  it('is forwarded once from a follower to the leader', async () => {
    const leader = member({ b: await peer(current('b')), c: await peer(current('c')) });
    const server = new Server();
    server.addService(ClusterService, leader.service);
    const leaderAddress = await listen(server);
    // The follower knows the leader as b; b's peer address serves the leader's service.
    const follower = member({ b: leaderAddress, c: await deadAddress() }, 'b');
    expect(await setFormat(follower.service, 2)).toMatchObject({ previous: 1, format: 2, index: 1 });
    expect(leader.machine.dataFormat).toBe(2);
    expect(follower.log.proposed).toBe(0);
  });
});
