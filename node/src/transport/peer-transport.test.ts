import { randomBytes } from 'node:crypto';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { ALL_MESSAGE_TYPES, LOCAL_MESSAGE_TYPES } from '../api/raft-message-codec.js';
import type { Message, NodeId } from '../raft/types.js';
import { TransportUsageError } from './errors.js';
import type { DropReason, PeerTransportOptions } from './options.js';
import { PeerTransport } from './peer-transport.js';
import {
  deadAddress,
  message,
  Recorder,
  startServer,
  type TestServer,
} from '../../testing/transport/test-harness.js';

const MiB = 1024 * 1024;
const NETWORK_TYPES = ALL_MESSAGE_TYPES.filter((t) => !LOCAL_MESSAGE_TYPES.has(t) && t !== 'snap');

interface Harness {
  readonly transport: PeerTransport;
  readonly unreachable: Recorder<NodeId>;
  readonly snapshotStatus: Recorder<{ peer: NodeId; ok: boolean }>;
  readonly batches: Recorder<{ peer: NodeId; messages: number; bytes: number }>;
  readonly connections: Recorder<{ peer: NodeId; connected: boolean }>;
  readonly dropped: Recorder<{ peer: NodeId; count: number; reason: DropReason }>;
  readonly addresses: Map<NodeId, string>;
}

const open: PeerTransport[] = [];
const servers: TestServer[] = [];

/** A peer that accepts TCP but never speaks HTTP/2 (calls to it hang), for the test's duration. */
async function withSilentPeer(
  test: (address: string, accepted: () => number) => Promise<void>,
): Promise<void> {
  const sockets: Socket[] = [];
  const silent: NetServer = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  try {
    await test(`127.0.0.1:${port}`, () => sockets.length);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  }
}

function harness(overrides: Partial<PeerTransportOptions> = {}): Harness {
  const unreachable = new Recorder<NodeId>();
  const snapshotStatus = new Recorder<{ peer: NodeId; ok: boolean }>();
  const batches = new Recorder<{ peer: NodeId; messages: number; bytes: number }>();
  const connections = new Recorder<{ peer: NodeId; connected: boolean }>();
  const dropped = new Recorder<{ peer: NodeId; count: number; reason: DropReason }>();
  const addresses = new Map<NodeId, string>();
  const transport = new PeerTransport({
    shardId: 1,
    selfId: 'a',
    resolve: (id) => addresses.get(id),
    onUnreachable: (id) => unreachable.push(id),
    onSnapshotStatus: (peer, ok) => snapshotStatus.push({ peer, ok }),
    random: () => 0.5,
    backoff: { initialMs: 20, maxMs: 200 },
    timeouts: { closeMs: 2000, endTimeoutMs: 1000 },
    metrics: {
      batchSent: (peer, messages, bytes) => batches.push({ peer, messages, bytes }),
      connectionChanged: (peer, connected) => connections.push({ peer, connected }),
      messagesDropped: (peer, count, reason) => dropped.push({ peer, count, reason }),
    },
    ...overrides,
  });
  open.push(transport);
  return { transport, unreachable, snapshotStatus, batches, connections, dropped, addresses };
}

async function server(member: NodeId, port?: number, maxSnapshotBytes?: number): Promise<TestServer> {
  const started = await startServer({
    member,
    ...(port === undefined ? {} : { port }),
    ...(maxSnapshotBytes === undefined ? {} : { maxSnapshotBytes }),
  });
  servers.push(started);
  return started;
}

const messagesOf = (s: TestServer): Message[] => s.delivered.items.map((d) => d.message);

function snap(to: NodeId, data: Uint8Array): Message {
  return {
    ...message('snap', 'a', to, 100),
    snapshot: { metadata: { index: 100, term: 3, confState: { voters: ['a', to], learners: [] } }, data },
  };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  for (const s of servers.splice(0)) s.stop();
});

describe('PeerTransport', () => {
  it('delivers every network message type, in order per peer, with the shard id', async () => {
    const h = harness();
    const b = await server('b');
    const c = await server('c');
    h.addresses.set('b', b.address).set('c', c.address);
    const sentB: Message[] = [];
    const sentC: Message[] = [];
    for (let round = 0; round < 3; round += 1) {
      const batch: Message[] = [];
      NETWORK_TYPES.forEach((type, i) => {
        const toB = message(type, 'a', 'b', round * 100 + i);
        const toC = message(type, 'a', 'c', round * 100 + i);
        batch.push(toB, toC);
        sentB.push(toB);
        sentC.push(toC);
      });
      h.transport.send(batch);
    }
    await b.delivered.waitFor((d) => d.length >= sentB.length, 5000, 'b to receive all');
    await c.delivered.waitFor((d) => d.length >= sentC.length, 5000, 'c to receive all');
    expect(messagesOf(b)).toEqual(sentB);
    expect(messagesOf(c)).toEqual(sentC);
    expect(new Set(b.delivered.items.map((d) => d.shardId))).toEqual(new Set([1]));
    expect(NETWORK_TYPES).toHaveLength(12);
    await h.connections.waitFor((e) => e.some((x) => x.peer === 'b' && x.connected), 3000, 'b connected');
    const stats = h.transport.peerStats('b');
    expect(stats?.connected).toBe(true);
    expect(stats?.queuedMessages).toBe(0);
    expect(stats?.lastContactMs).toEqual(expect.any(Number));
    expect(h.unreachable.items).toEqual([]);
  });

  it('batches many small sends into few RaftBatches, each within maxBatchBytes', async () => {
    const h = harness({ limits: { maxBatchBytes: 16 * 1024 } });
    const b = await server('b');
    h.addresses.set('b', b.address);
    const count = 2000;
    for (let i = 0; i < count; i += 1) h.transport.send([message('app', 'a', 'b', i)]);
    await b.delivered.waitFor((d) => d.length >= count, 10_000, 'b to receive all');
    expect(messagesOf(b).map((m) => m.index)).toEqual(Array.from({ length: count }, (_, i) => i));
    const batches = h.batches.items;
    expect(batches.reduce((sum, x) => sum + x.messages, 0)).toBe(count);
    expect(batches.length).toBeLessThan(count / 10);
    expect(batches.length).toBeGreaterThan(1); // the byte bound did split them
    for (const x of batches) expect(x.bytes).toBeLessThanOrEqual(16 * 1024);
  }, 30_000); // generous: other work shares these 2 cores

  it('never lets a dead or silent peer delay a live one; the dead queues stay bounded and onUnreachable fires', async () => {
    // A silent peer accepts TCP but never speaks HTTP/2: calls to it hang until the transport gives up.
    const sockets: Socket[] = [];
    const silent: NetServer = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentAddress = silent.address();
    // 16 KiB messages: enough to fill grpc-js's own per-call buffer (256 KiB) in front of the silent peer, so our
    // queue bound is what holds its backlog.
    const large = (to: NodeId, index: number): Message => ({
      ...message('app', 'a', to, index),
      entries: [
        { term: 3, index: index + 1, type: 'normal', data: new Uint8Array(16 * 1024).fill(index & 0xff) },
      ],
    });
    try {
      const h = harness({ limits: { maxQueuedMessages: 50 } });
      const live = await server('b');
      h.addresses.set('b', live.address);
      h.addresses.set('dead', await deadAddress());
      h.addresses.set(
        'silent',
        `127.0.0.1:${typeof silentAddress === 'object' && silentAddress !== null ? silentAddress.port : 0}`,
      );
      // Rounds of 20 per peer, each awaited at the live peer: the live one keeps pace while 500 messages pile up
      // against the bound of 50 for each of the others.
      const rounds = 25;
      const perRound = 20;
      const startedMs = performance.now();
      for (let round = 0; round < rounds; round += 1) {
        for (let i = round * perRound; i < (round + 1) * perRound; i += 1) {
          h.transport.send([large('dead', i), large('silent', i), large('b', i)]);
        }
        const expected = (round + 1) * perRound;
        await live.delivered.waitFor((d) => d.length >= expected, 2000, `round ${round} at the live peer`);
      }
      expect(performance.now() - startedMs).toBeLessThan(5000);
      expect(messagesOf(live).map((m) => m.index)).toEqual(
        Array.from({ length: rounds * perRound }, (_, i) => i),
      );
      for (const peer of ['dead', 'silent']) {
        expect(h.transport.peerStats(peer)?.queuedMessages).toBeLessThanOrEqual(50);
        expect(h.transport.peerStats(peer)?.connected).toBe(false);
      }
      await h.unreachable.waitFor(
        (ids) => ids.includes('dead') && ids.includes('silent'),
        3000,
        'onUnreachable',
      );
      expect(h.unreachable.items).not.toContain('b');
      await h.unreachable.waitFor(
        () => h.transport.peerStats('dead')?.lastSendError !== undefined,
        5000,
        'dead error',
      );
      expect(h.transport.peerStats('dead')?.lastSendError).toMatch(/UNAVAILABLE/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  }, 30_000); // generous: other work shares these 2 cores

  it('reconnects with backoff after the peer comes back on the same port and delivers new messages', async () => {
    const h = harness();
    const first = await server('b');
    h.addresses.set('b', first.address);
    h.transport.send([message('heartbeat', 'a', 'b', 1)]);
    await first.delivered.waitFor((d) => d.length === 1, 3000, 'the first message');
    await h.connections.waitFor((e) => e.length === 1, 3000, 'the first connection');
    first.stop();
    await h.unreachable.waitFor((ids) => ids.includes('b'), 5000, 'the broken stream to be reported');
    expect(h.transport.peerStats('b')?.connected).toBe(false);
    h.transport.send([message('heartbeat', 'a', 'b', 2)]); // may be lost: the peer is down
    const second = await server('b', first.port);
    h.transport.send([message('heartbeat', 'a', 'b', 3)]);
    await second.delivered.waitFor(
      (d) => d.some((x) => x.message.index === 3),
      5000,
      'a message after the restart',
    );
    // connected, disconnected, connected again: the transport saw the outage and the recovery
    await h.connections.waitFor(
      (e) => e.filter((x) => x.connected).length === 2,
      3000,
      'the second connection',
    );
    expect(h.connections.items.map((x) => x.connected)).toEqual([true, false, true]);
    expect(h.transport.peerStats('b')?.connected).toBe(true);
  }, 30_000); // generous: other work shares these 2 cores

  it('re-resolves the address on reconnect', async () => {
    const h = harness();
    const oldHome = await server('b');
    const newHome = await server('b');
    h.addresses.set('b', oldHome.address);
    h.transport.send([message('heartbeat', 'a', 'b', 1)]);
    await oldHome.delivered.waitFor((d) => d.length === 1, 3000, 'the first message');
    h.addresses.set('b', newHome.address);
    oldHome.stop();
    await h.unreachable.waitFor((ids) => ids.includes('b'), 5000, 'the broken stream to be reported');
    h.transport.send([message('heartbeat', 'a', 'b', 2)]);
    await newHome.delivered.waitFor((d) => d.length === 1, 5000, 'delivery at the new address');
    expect(h.transport.peerStats('b')?.address).toBe(newHome.address);
  });

  it('abandons a stream the peer does not answer and resolves the peer afresh (a rescheduled pod’s stale address)', async () => {
    // The peer's name first points at an address that swallows the connection (like a deleted pod's old IP, where
    // a connect can hang for minutes); then DNS catches up with its new home. Without the answer timeout the
    // stream to the old address would wait out streamMaxAgeMs (300 s) and nothing would look the name up again.
    await withSilentPeer(async (silentAddress, accepted) => {
      const h = harness({ timeouts: { closeMs: 2000, endTimeoutMs: 1000, answerTimeoutMs: 500 } });
      const newHome = await server('b');
      h.addresses.set('b', silentAddress);
      h.transport.send([message('heartbeat', 'a', 'b', 1)]);
      for (let i = 0; accepted() === 0; i++) {
        if (i > 500) throw new Error('the stream never reached the stale address');
        await new Promise((r) => setTimeout(r, 10));
      }
      h.addresses.set('b', newHome.address);
      // Raft keeps sending (heartbeats every tick): what was written into the abandoned stream is lost, the rest
      // must reach the new home.
      const ticker = setInterval(() => h.transport.send([message('heartbeat', 'a', 'b', 2)]), 100);
      try {
        await newHome.delivered.waitFor((d) => d.length >= 1, 5000, 'delivery at the new address');
      } finally {
        clearInterval(ticker);
      }
      expect(h.transport.peerStats('b')?.address).toBe(newHome.address);
      expect(h.unreachable.items).toContain('b'); // what went to the old address was reported lost
    });
  }, 30_000);

  it('streams a 20 MiB snapshot in chunks beside the message stream and reports it ok', async () => {
    const chunks = new Recorder<number>();
    const h = harness({
      metrics: { snapshotSent: (_peer, _ok, _bytes, count) => chunks.push(count) },
    });
    const b = await server('b');
    h.addresses.set('b', b.address);
    const data = randomBytes(20 * MiB);
    h.transport.send([snap('b', data), message('heartbeat', 'a', 'b', 7)]);
    await h.snapshotStatus.waitFor((s) => s.length === 1, 20_000, 'the snapshot status');
    expect(h.snapshotStatus.items).toEqual([{ peer: 'b', ok: true }]);
    expect(chunks.items).toEqual([20]);
    const delivered = messagesOf(b).find((m) => m.type === 'snap');
    expect(delivered?.snapshot?.metadata.index).toBe(100);
    expect(Buffer.from(delivered?.snapshot?.data ?? []).equals(data)).toBe(true);
    expect(messagesOf(b).some((m) => m.type === 'heartbeat')).toBe(true);
  }, 30_000); // generous: other work shares these 2 cores

  it('reports a snapshot the peer refuses (over its size bound, or for another member) as failed', async () => {
    const h = harness();
    const small = await server('b', undefined, 1 * MiB);
    const fenced = await server('c-new');
    h.addresses.set('b', small.address).set('c', fenced.address);
    h.transport.send([snap('b', randomBytes(2 * MiB)), snap('c', randomBytes(1000))]);
    await h.snapshotStatus.waitFor((s) => s.length === 2, 10_000, 'both snapshot statuses');
    expect(h.snapshotStatus.items).toEqual(
      expect.arrayContaining([
        { peer: 'b', ok: false },
        { peer: 'c', ok: false },
      ]),
    );
    expect(small.delivered.items).toEqual([]);
    expect(fenced.delivered.items).toEqual([]);
  });

  it('reports a snapshot to a dead peer as failed', async () => {
    const h = harness();
    h.addresses.set('b', await deadAddress());
    h.transport.send([snap('b', randomBytes(1000))]);
    await h.snapshotStatus.waitFor((s) => s.length === 1, 5000, 'the snapshot status');
    expect(h.snapshotStatus.items).toEqual([{ peer: 'b', ok: false }]);
  });

  it('learns from FAILED_PRECONDITION that the peer is another member, and reports it unreachable', async () => {
    const h = harness();
    const wiped = await server('b-new');
    h.addresses.set('b', wiped.address);
    h.transport.send([message('app', 'a', 'b', 1)]);
    await h.unreachable.waitFor((ids) => ids.includes('b'), 5000, 'onUnreachable');
    const error = h.transport.peerStats('b')?.lastSendError ?? '';
    expect(error).toMatch(/^FAILED_PRECONDITION: /);
    expect(error).toContain("'b'");
    expect(error).toContain("'b-new'");
    expect(wiped.delivered.items).toEqual([]);
  });

  it('refuses local-only types and misaddressed messages by throwing, queueing nothing of that call', () => {
    const h = harness();
    h.addresses.set('b', '127.0.0.1:1');
    const good = message('app', 'a', 'b', 1);
    for (const type of LOCAL_MESSAGE_TYPES) {
      expect(() => h.transport.send([good, message(type, 'a', 'b', 2)])).toThrow(TransportUsageError);
    }
    expect(() => h.transport.send([message('app', 'x', 'b', 1)])).toThrow(/not from this member 'a'/);
    expect(() => h.transport.send([message('app', 'a', 'a', 1)])).toThrow(/another member/);
    expect(() => h.transport.send([message('snap', 'a', 'b', 1)])).toThrow(/without a snapshot/);
    expect(h.transport.peerStats('b')).toBeUndefined();
  });

  it('removePeer drops the queue and closes the channel; close() is bounded and silences callbacks', async () => {
    await withSilentPeer(async (silentAddress) => {
      const h = harness({ timeouts: { closeMs: 300, endTimeoutMs: 1000 } });
      h.addresses.set('silent', silentAddress); // 'gone' has no address: its message stays queued
      h.addresses.set('dead', await deadAddress());
      h.transport.send([
        message('app', 'a', 'gone', 1),
        message('app', 'a', 'silent', 1),
        message('app', 'a', 'dead', 1),
      ]);
      h.transport.send([snap('silent', randomBytes(100_000))]);
      expect(h.transport.peerStats('gone')?.queuedMessages).toBe(1);
      h.transport.removePeer('gone');
      await h.dropped.waitFor(
        (d) => d.some((x) => x.peer === 'gone' && x.reason === 'removed'),
        2000,
        'drop',
      );
      expect(h.transport.peerStats('gone')).toBeUndefined();
      expect(h.transport.peerIds().sort()).toEqual(['dead', 'silent']);
      const startedMs = performance.now();
      await h.transport.close();
      expect(performance.now() - startedMs).toBeLessThan(300 + 500);
      const reported = h.unreachable.items.length + h.snapshotStatus.items.length;
      h.transport.send([message('app', 'a', 'silent', 2)]); // after close: dropped quietly
      expect(h.transport.peerStats('silent')).toBeUndefined();
      expect(h.unreachable.items.length + h.snapshotStatus.items.length).toBe(reported);
      expect(h.snapshotStatus.items).toEqual([]);
    });
  });

  it('close(withinMs) bounds the flush below closeMs: a stopping process gives a silent peer no more than it has', async () => {
    await withSilentPeer(async (silentAddress) => {
      const h = harness({ timeouts: { closeMs: 5000, endTimeoutMs: 5000 } });
      h.addresses.set('silent', silentAddress);
      h.transport.send([message('app', 'a', 'silent', 1)]);
      const startedMs = performance.now();
      await h.transport.close(200);
      expect(performance.now() - startedMs).toBeLessThan(200 + 1000);
    });
  });

  it('rotates the stream after streamMaxAgeMs without losing or reordering messages', async () => {
    const h = harness({ timeouts: { streamMaxAgeMs: 150, endTimeoutMs: 1000, closeMs: 2000 } });
    const b = await server('b');
    h.addresses.set('b', b.address);
    let sent = 0;
    // Keep sending until three streams have been answered: two rotations happened under traffic.
    while (h.connections.items.filter((x) => x.connected).length < 3) {
      h.transport.send([message('app', 'a', 'b', sent), message('heartbeat', 'a', 'b', sent + 1)]);
      sent += 2;
      await b.delivered.waitFor((d) => d.length >= sent, 2000, `message ${sent}`);
      if (sent > 100_000) throw new Error('no rotation after 100000 messages');
    }
    expect(messagesOf(b).map((m) => m.index)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(h.unreachable.items).toEqual([]);
    expect(h.transport.peerStats('b')?.lastSendError).toBeUndefined();
  }, 30_000); // generous: other work shares these 2 cores

  it('close() flushes what is queued to reachable peers before ending their streams', async () => {
    const h = harness();
    const b = await server('b');
    h.addresses.set('b', b.address);
    const sent = Array.from({ length: 300 }, (_, i) => message('app', 'a', 'b', i));
    h.transport.send(sent);
    await h.transport.close();
    expect(messagesOf(b)).toEqual(sent);
  });

  it('drops a single message larger than maxMessageBytes and reports it; a lone large one goes alone', async () => {
    const h = harness({
      limits: { maxMessageBytes: 64 * 1024, maxBatchBytes: 16 * 1024, snapshotChunkBytes: 16 * 1024 },
    });
    const b = await server('b');
    h.addresses.set('b', b.address);
    const withData = (index: number, bytes: number): Message => ({
      ...message('app', 'a', 'b', index),
      entries: [{ term: 3, index: index + 1, type: 'normal', data: new Uint8Array(bytes) }],
    });
    h.transport.send([withData(1, 100 * 1024), withData(2, 40 * 1024), message('heartbeat', 'a', 'b', 3)]);
    await b.delivered.waitFor((d) => d.length === 2, 3000, 'the two sendable messages');
    expect(messagesOf(b).map((m) => m.index)).toEqual([2, 3]);
    expect(h.dropped.items).toEqual([{ peer: 'b', count: 1, reason: 'tooLarge' }]);
    expect(h.unreachable.items).toEqual(['b']);
    expect(h.batches.items.map((x) => x.messages)).toEqual([1, 1]); // 40 KiB alone, then the heartbeat
  });

  it('keeps one snapshot waiting per peer: a newer one supersedes it, reported failed after send() returns', async () => {
    const sockets: Socket[] = [];
    const silent: NetServer = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    try {
      const started = new Recorder<NodeId>();
      const h = harness({ metrics: { snapshotStarted: (peer) => started.push(peer) } });
      h.addresses.set('b', `127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`);
      h.transport.send([snap('b', randomBytes(10))]);
      await started.waitFor((s) => s.length === 1, 1000, 'the first snapshot to start');
      expect(h.transport.peerStats('b')?.snapshotInFlight).toBe(true);
      h.transport.send([snap('b', randomBytes(10))]);
      h.transport.send([snap('b', randomBytes(10))]);
      expect(h.snapshotStatus.items).toEqual([]); // not re-entrant
      await h.snapshotStatus.waitFor((s) => s.length === 1, 1000, 'the superseded snapshot');
      expect(h.snapshotStatus.items).toEqual([{ peer: 'b', ok: false }]);
      expect(started.items).toEqual(['b']); // the stuck one is still the only one sending
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('reports a peer without an address unreachable and keeps its messages, bounded', async () => {
    const h = harness({ limits: { maxQueuedMessages: 3 } });
    h.transport.send([1, 2, 3, 4].map((i) => message('app', 'a', 'nowhere', i)));
    await h.unreachable.waitFor(
      (ids) => ids.length >= 2,
      3000,
      'two reports: the overflow and the failed connect',
    );
    expect(h.unreachable.items.every((id) => id === 'nowhere')).toBe(true);
    const stats = h.transport.peerStats('nowhere');
    expect(stats?.queuedMessages).toBe(3);
    expect(stats?.lastSendError).toBe('no address known for peer');
    expect(stats?.connected).toBe(false);
  });
});
