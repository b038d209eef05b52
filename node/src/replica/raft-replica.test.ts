// The replica loop with real timers, the real core and the real KV state machine, three members in one process
// with in-memory message passing. Waits are on conditions with bounds, never fixed sleeps.
import pino from 'pino';
import { encodeCommand } from '../kv/command-codec.js';
import { KvStateMachine, lowersDataFormat } from '../kv/state-machine.js';
import type { ApplyOutcome, Command } from '../kv/types.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import { RawNode } from '../raft/raw-node.js';
import type { Message } from '../raft/types.js';
import { seededRandom } from '../random/prng.js';
import { NotLeaderError, ReplicaStoppedError } from './errors.js';
import { MemberDirectory } from './member-directory.js';
import { bestTransferTarget, RaftReplica, transferTargets } from './raft-replica.js';
import { decodeSnapshotEnvelope, encodeSnapshotEnvelope } from './snapshot-envelope.js';
import { MemoryPersistence } from '../../testing/replica/memory-persistence.js';
import { WriteTracer, type TraceRecord, type WriteTrace } from '../observability/write-trace.js';
import { traceReport } from '../../bench/trace/trace-report.js';
import { progressStatus, raftStatus } from '../../testing/raft/raft-status.js';

const logger = pino({ level: 'silent' });
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function put(key: string, value: string): Uint8Array {
  const command: Command = {
    timestampMs: 1,
    op: { kind: 'put', key: enc(key), value: enc(value), prevKv: false },
  };
  return encodeCommand(command);
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

type Replica = RaftReplica<ApplyOutcome>;

function cluster(
  ids: string[],
  options: { snapshotEntries?: number; trace?: (id: string) => WriteTrace } = {},
) {
  const replicas = new Map<string, Replica>();
  const persistence = new Map<string, MemoryPersistence>();
  const cut = new Set<string>();
  const members = ids.map((id) => ({ id, name: id, peerAddress: `${id}:2380`, clientAddress: `${id}:2379` }));
  const bootstrap = encodeSnapshotEnvelope({ members, machine: new KvStateMachine().snapshot() });
  ids.forEach((id, i) => {
    const storage = MemoryStorage.bootstrap(ids, bootstrap);
    const p = new MemoryPersistence();
    persistence.set(id, p);
    const replica: Replica = new RaftReplica<ApplyOutcome>({
      node: new RawNode({
        id,
        storage,
        electionTicks: 10,
        heartbeatTicks: 1,
        random: seededRandom(i + 1),
      }),
      storage,
      persistence: p,
      machine: new KvStateMachine(),
      restoreMachine: (bytes) => KvStateMachine.restore(bytes),
      directory: new MemberDirectory(members),
      send: (messages: readonly Message[]) => {
        for (const m of messages) {
          if (cut.has(m.from) || cut.has(m.to)) continue;
          setImmediate(() => replicas.get(m.to)?.deliver(m));
        }
      },
      tickMs: 20,
      electionTicks: 10,
      snapshotEntries: options.snapshotEntries ?? 1000,
      snapshotRetainEntries: 10,
      snapshotAfter: lowersDataFormat,
      requestTimeoutMs: 10_000,
      maxQueuedRequests: 10_000,
      maxBatchEntries: 256,
      logger,
      ...(options.trace !== undefined ? { trace: options.trace(id) } : {}),
    });
    replicas.set(id, replica);
  });
  const leader = (): Replica | undefined => [...replicas.values()].find((r) => r.status().role === 'leader');
  return { replicas, persistence, cut, leader };
}

describe('RaftReplica', () => {
  const running: Replica[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.stop()));
  });

  function start(c: ReturnType<typeof cluster>): void {
    for (const r of c.replicas.values()) {
      r.start();
      running.push(r);
    }
  }

  test('elects a leader, applies proposals on every member and returns the result to the proposer', async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    const outcome = await leader.propose(put('k', 'v1'));
    expect(outcome?.result).toMatchObject({ kind: 'put', revision: 1 });
    await until('all applied', () =>
      [...c.replicas.values()].every((r) => (r.stateMachine as KvStateMachine).get('k') !== undefined),
    );
  });

  test('a traced write: every member marks its stages in causal order, and the report joins them', async () => {
    const lines: string[] = [];
    const tracers = new Map<string, WriteTracer>();
    const c = cluster(['a', 'b', 'c'], {
      trace: (id) => {
        const t = new WriteTracer({
          member: id,
          sampleEvery: 1,
          maxBufferedRecords: 10_000,
          write: (l) => lines.push(l),
        });
        tracers.set(id, t);
        return t;
      },
    });
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    await Promise.all(Array.from({ length: 20 }, (_, i) => leader.propose(put(`t${i}`, 'v'))));
    await until('all applied', () =>
      [...c.replicas.values()].every((r) => (r.stateMachine as KvStateMachine).get('t19') !== undefined),
    );
    for (const t of tracers.values()) t.flush();
    const records = lines.flatMap((l) => l.trim().split('\n')).map((l) => JSON.parse(l) as TraceRecord);
    const of = (member: string, index: number) =>
      new Map(records.filter((r) => r.m === member && r.i === index).map((r) => [r.s, r.t]));
    const last = Math.max(...records.filter((r) => r.s === 'replied').map((r) => r.i));
    const mine = of(leader.id, last);
    const order = [
      'queued',
      'proposed',
      'persistStart',
      'persistEnd',
      'committed',
      'applied',
      'replied',
    ] as const;
    order
      .slice(1)
      .forEach((stage, k) => expect(mine.get(stage)).toBeGreaterThanOrEqual(mine.get(order[k]!)!));
    expect(mine.get('sent')).toBeGreaterThanOrEqual(mine.get('proposed')!);
    const follower = [...c.replicas.keys()].find((id) => id !== leader.id)!;
    const theirs = of(follower, last);
    expect(theirs.get('received')).toBeGreaterThanOrEqual(mine.get('sent')!);
    expect(theirs.get('acked')).toBeGreaterThanOrEqual(theirs.get('persistEnd')!);
    expect(theirs.has('proposed')).toBe(false);
    const report = traceReport(records);
    expect(report.entries).toBeGreaterThanOrEqual(20);
    expect(report.spans.find((s) => s.name === 'total')!.p50_ms).toBeGreaterThanOrEqual(0);
  });

  test('concurrent proposals are batched: far fewer fsyncs than writes', async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    const before = c.persistence.get(leader.id)!.syncs;
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => leader.propose(put(`k${i}`, 'v'))),
    );
    expect(results.every((r) => r?.result.kind === 'put')).toBe(true);
    const syncs = c.persistence.get(leader.id)!.syncs - before;
    expect(syncs).toBeLessThan(100);
  });

  test("while the leader's fsync is slow, the followers' acks commit its entries; proposals wait to batch", async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    await leader.propose(put('warm', 'up'));
    const disk = c.persistence.get(leader.id)!;
    const before = leader.status().lastIndex;
    disk.hold = true;
    let settled = 0;
    const first = leader.propose(put('k1', 'v')).finally(() => settled++);
    await until('the write is committed by the followers alone', () => leader.status().commit > before);
    expect(disk.heldCount).toBe(1);
    // Proposals that arrive meanwhile are not appended one by one: they wait for the next Ready, as one batch.
    const later = [leader.propose(put('k2', 'v')), leader.propose(put('k3', 'v'))];
    await new Promise((r) => setTimeout(r, 50));
    expect(leader.status().lastIndex).toBe(before + 1);
    expect(settled).toBe(0); // results come from applying, after the Ready in progress
    disk.release();
    const results = await Promise.all([first, ...later]);
    expect(results.map((r) => r?.result.kind)).toEqual(['put', 'put', 'put']);
  });

  test('a follower refuses a proposal with the leader it knows', async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    await until('followers know the leader', () =>
      [...c.replicas.values()].every((r) => r.status().leader === leader.id),
    );
    const follower = [...c.replicas.values()].find((r) => r !== leader)!;
    await expect(follower.propose(put('x', 'y'))).rejects.toEqual(new NotLeaderError(leader.id));
  });

  test('a linearizable read on a follower waits until it applied the latest acknowledged write', async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    await until('followers know the leader', () =>
      [...c.replicas.values()].every((r) => r.status().leader === leader.id),
    );
    const follower = [...c.replicas.values()].find((r) => r !== leader)!;
    for (let i = 0; i < 20; i++) {
      await leader.propose(put('counter', String(i)));
      await follower.linearizableBarrier();
      const kv = (follower.stateMachine as KvStateMachine).get('counter');
      expect(new TextDecoder().decode(kv!.value)).toBe(String(i));
    }
  });

  test('snapshots are taken every N entries and a member cut off catches up from one', async () => {
    const c = cluster(['a', 'b', 'c'], { snapshotEntries: 50 });
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    const lagging = [...c.replicas.values()].find((r) => r !== leader)!;
    c.cut.add(lagging.id);
    for (let i = 0; i < 200; i++) await leader.propose(put(`k${i}`, 'v'));
    expect(c.persistence.get(leader.id)!.snapshots.length).toBeGreaterThan(0);
    c.cut.delete(lagging.id);
    await until(
      'the lagging member caught up',
      () => (lagging.stateMachine as KvStateMachine).keyCount === 200,
    );
    expect(lagging.status().commit).toBeGreaterThanOrEqual(200);
  });

  test('a member cut off at data format 2 catches up from a compressed snapshot', async () => {
    const c = cluster(['a', 'b', 'c'], { snapshotEntries: 50 });
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    const lagging = [...c.replicas.values()].find((r) => r !== leader)!;
    c.cut.add(lagging.id);
    await leader.propose(encodeCommand({ timestampMs: 1, op: { kind: 'setDataFormat', format: 2 } }));
    for (let i = 0; i < 200; i++) await leader.propose(put(`k${i}`, 'v'));
    const sent = c.persistence.get(leader.id)!.snapshots.at(-1)!;
    expect(decodeSnapshotEnvelope(sent.data).machine[4]).toBe(4);
    c.cut.delete(lagging.id);
    await until(
      'the lagging member caught up',
      () => (lagging.stateMachine as KvStateMachine).keyCount === 200,
    );
    expect((lagging.stateMachine as KvStateMachine).dataFormat).toBe(2);
  });

  test('every member that applies an entry lowering the data format snapshots past it in the lower format', async () => {
    const c = cluster(['a', 'b', 'c']); // snapshots every 1000 entries: none would be taken otherwise
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    const setFormat = (format: number): Uint8Array =>
      encodeCommand({ timestampMs: 1, op: { kind: 'setDataFormat', format } });
    await leader.propose(setFormat(2));
    for (let i = 0; i < 20; i++) await leader.propose(put(`k${i}`, 'v'));
    const snapshotsBefore = [...c.persistence.values()].map((p) => p.snapshots.length);
    expect(snapshotsBefore).toEqual([0, 0, 0]); // raising the format asks for no snapshot
    const lowered = await leader.propose(setFormat(1));
    expect(lowered?.result).toMatchObject({ kind: 'dataFormat', ok: true, previous: 2, format: 1 });
    const index = lowered?.result.kind === 'dataFormat' ? lowered.result.index : 0;
    const machineFormat = (id: string): number | undefined => {
      const last = c.persistence.get(id)!.snapshots.at(-1);
      return last === undefined || last.metadata.index < index
        ? undefined
        : decodeSnapshotEnvelope(last.data).machine[4];
    };
    await until('every member saved a snapshot past the lowering entry', () =>
      [...c.replicas.keys()].every((id) => machineFormat(id) !== undefined),
    );
    expect([...c.replicas.keys()].map(machineFormat)).toEqual([3, 3, 3]);
  });

  test('leadership transfer hands over to the best voter', async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    await leader.propose(put('k', 'v'));
    const next = await leader.transferLeadership();
    // The answer names the new leader, never '' (stepped down, successor not yet heard from).
    expect(['a', 'b', 'c'].filter((id) => id !== leader.id)).toContain(next);
    await until('the new leader leads', () => c.replicas.get(next)!.status().role === 'leader');
  });

  test('awaitLeader waits through a transfer for the new leader, and fails clearly when none is elected', async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    await until('followers know the leader', () =>
      [...c.replicas.values()].every((r) => r.status().leader === leader.id),
    );
    await expect(leader.awaitLeader(1000)).resolves.toBe(leader.id);
    const transfer = leader.transferLeadership();
    // Asked during the handoff, the old leader names its successor instead of failing.
    const successor = await leader.awaitLeader(5000);
    expect(successor).not.toBe(leader.id);
    await expect(transfer).resolves.toBe(successor);
    // With the others cut off, no leader can be elected: the wait is bounded and says so.
    const lonely = c.replicas.get(successor)!;
    for (const r of c.replicas.values()) if (r !== lonely) c.cut.add(r.id);
    await until('the isolated leader steps down', () => lonely.status().leader === '', 10_000);
    await expect(lonely.awaitLeader(50)).rejects.toThrow('no leader took over within 50 ms');
  });

  test('a stopping member declines leadership: a transfer to it fails within an election timeout, not the backstop', async () => {
    const c = cluster(['a', 'b', 'c']);
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    const leader = c.leader()!;
    await leader.propose(put('k', 'v'));
    const [stopping, other] = [...c.replicas.values()].filter((r) => r !== leader);
    // Its own hand-off does nothing (it does not lead) but marks it as leaving.
    await expect(stopping!.handOverBeforeStopping(5000)).resolves.toBeUndefined();
    const t0 = Date.now();
    // The backstop here is the 10 s request timeout; the core abandons the transfer after one election timeout.
    await expect(leader.transferLeadership(stopping!.id)).rejects.toThrow(
      `leadership transfer to ${stopping!.id} failed`,
    );
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(leader.status().role).toBe('leader');
    // The leader's own hand-off offers leadership to the next voter after the one that declines.
    const next = await leader.handOverBeforeStopping(5000);
    expect(next).toBe(other!.id);
    expect(stopping!.status().role).not.toBe('leader');
  });

  test('transfer targets: most caught-up voter first, ties in configuration order, never a learner', () => {
    const progress = progressStatus;
    const status = raftStatus({
      id: 'a',
      config: { voters: ['a', 'b', 'c', 'd'], learners: ['e'] },
      progress: new Map([
        ['b', progress(5)],
        ['c', progress(9)],
        ['d', progress(5)],
        ['e', progress(99)],
      ]),
    });
    expect(transferTargets(status)).toEqual(['c', 'b', 'd']);
    expect(bestTransferTarget(status)).toBe('c');
  });

  test('a disk failure stops the replica: pending and new requests fail, onFatal is told', async () => {
    const c = cluster(['solo']);
    const replica = c.replicas.get('solo')!;
    start(c);
    await until('a leader', () => c.leader() !== undefined);
    c.persistence.get('solo')!.failNext = new Error('EIO: disk gone');
    await expect(replica.propose(put('k', 'v'))).rejects.toBeInstanceOf(ReplicaStoppedError);
    expect(replica.failure?.message).toBe('EIO: disk gone');
    await expect(replica.propose(put('k', 'v'))).rejects.toBeInstanceOf(ReplicaStoppedError);
  });
});
