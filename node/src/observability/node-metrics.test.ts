import { status } from '@grpc/grpc-js';
import { register as globalRegistry } from 'prom-client';
import { raftStatus as baseStatus, progressStatus } from '../../testing/raft/raft-status.js';
import type { RaftStatus } from '../raft/types.js';
import { NodeMetrics } from './node-metrics.js';

const progress = progressStatus;

/** A fresh follower with no leader yet, unless overridden. */
function raftStatus(overrides: Partial<RaftStatus>): RaftStatus {
  return baseStatus({ term: 1, commit: 0, applied: 0, lastIndex: 0, leader: '', ...overrides });
}

/** One sample line of the exposition, e.g. value('raftstore_term') or value('x{peer="b"}'). */
async function sample(m: NodeMetrics, series: string): Promise<number | undefined> {
  const text = await m.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('NodeMetrics', () => {
  it('lets two instances coexist in one process without touching the global registry', async () => {
    const a = new NodeMetrics();
    const b = new NodeMetrics();
    a.setRaftStatus(raftStatus({ term: 3 }));
    b.setRaftStatus(raftStatus({ term: 9 }));
    expect(await sample(a, 'raftstore_term')).toBe(3);
    expect(await sample(b, 'raftstore_term')).toBe(9);
    expect(await globalRegistry.metrics()).not.toContain('raftstore_');
  });

  it('registers the default process metrics on its own registry, unless told not to', async () => {
    expect(await new NodeMetrics().metrics()).toMatch(/^process_cpu_user_seconds_total /m);
    expect(await new NodeMetrics().metrics()).toMatch(/^nodejs_heap_size_used_bytes /m);
    expect(await new NodeMetrics({ processMetrics: false }).metrics()).not.toContain('process_cpu');
  });

  it('exposes the Prometheus text content type', () => {
    expect(new NodeMetrics({ processMetrics: false }).contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('puts constant labels on every series', async () => {
    const m = new NodeMetrics({ processMetrics: false, constLabels: { cluster: 'prod', shard: '2' } });
    m.setRaftStatus(raftStatus({ term: 4 }));
    expect(await sample(m, 'raftstore_term{cluster="prod",shard="2"}')).toBe(4);
  });

  it('publishes Raft status, counting leader changes and elections as transitions', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.setRaftStatus(raftStatus({ term: 1, role: 'preCandidate' }));
    m.setRaftStatus(raftStatus({ term: 2, role: 'candidate' }));
    m.setRaftStatus(raftStatus({ term: 2, role: 'candidate' }));
    expect(await sample(m, 'raftstore_elections_total')).toBe(1);
    // The election timed out; the candidate campaigns again in the next term.
    m.setRaftStatus(raftStatus({ term: 3, role: 'candidate' }));
    expect(await sample(m, 'raftstore_elections_total')).toBe(2);
    expect(await sample(m, 'raftstore_has_leader')).toBe(0);

    m.setRaftStatus(raftStatus({ term: 2, role: 'follower', leader: 'b', commit: 10, applied: 8 }));
    m.setRaftStatus(raftStatus({ term: 2, role: 'follower', leader: 'b', commit: 11, applied: 11 }));
    expect(await sample(m, 'raftstore_leader_changes_total')).toBe(1);
    expect(await sample(m, 'raftstore_has_leader')).toBe(1);
    expect(await sample(m, 'raftstore_is_leader')).toBe(0);
    expect(await sample(m, 'raftstore_commit_index')).toBe(11);
    expect(await sample(m, 'raftstore_applied_index')).toBe(11);

    m.setRaftStatus(raftStatus({ term: 4, role: 'candidate' }));
    m.setRaftStatus(raftStatus({ term: 4, role: 'leader', leader: 'a' }));
    expect(await sample(m, 'raftstore_elections_total')).toBe(3);
    expect(await sample(m, 'raftstore_leader_changes_total')).toBe(2);
    expect(await sample(m, 'raftstore_is_leader')).toBe(1);
    expect(await sample(m, 'raftstore_term')).toBe(4);
  });

  it('publishes peer lag only while leader, without the leader itself, and drops it afterwards', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    const progressMap = new Map([
      ['a', progress(100)],
      ['b', progress(97)],
      ['c', progress(40)],
    ]);
    m.setRaftStatus(raftStatus({ role: 'leader', leader: 'a', lastIndex: 100, progress: progressMap }));
    expect(await sample(m, 'raftstore_peer_lag_entries{peer="b"}')).toBe(3);
    expect(await sample(m, 'raftstore_peer_lag_entries{peer="c"}')).toBe(60);
    expect(await sample(m, 'raftstore_peer_lag_entries{peer="a"}')).toBeUndefined();

    m.setRaftStatus(raftStatus({ role: 'follower', leader: 'b', lastIndex: 100 }));
    expect(await m.metrics()).not.toContain('raftstore_peer_lag_entries{');
  });

  it('tracks peer connections and forgets removed peers', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.setPeerConnected('b', true);
    m.setPeerConnected('c', false);
    expect(await sample(m, 'raftstore_peer_connected{peer="b"}')).toBe(1);
    expect(await sample(m, 'raftstore_peer_connected{peer="c"}')).toBe(0);
    m.forgetPeer('c');
    expect(await sample(m, 'raftstore_peer_connected{peer="c"}')).toBeUndefined();
  });

  it('counts proposals by outcome and publishes the pending count', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.countProposals(5, 'ok');
    m.countProposals(2, 'ok');
    m.countProposals(1, 'notLeader');
    m.countProposals(0, 'timeout');
    m.setProposalsPending(4);
    expect(await sample(m, 'raftstore_proposals_total{result="ok"}')).toBe(7);
    expect(await sample(m, 'raftstore_proposals_total{result="notLeader"}')).toBe(1);
    expect(await sample(m, 'raftstore_proposals_total{result="timeout"}')).toBeUndefined();
    expect(await sample(m, 'raftstore_proposals_pending')).toBe(4);
  });

  it("publishes the slots the member's group serves and moves, and its slot-map epoch", async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.setSlots({ ownedCount: 1365, movingCount: 64, epoch: 9 });
    expect(await sample(m, 'raftstore_slots{state="owned"}')).toBe(1365);
    expect(await sample(m, 'raftstore_slots{state="moving"}')).toBe(64);
    expect(await sample(m, 'raftstore_slot_map_epoch')).toBe(9);
  });

  it("publishes the data format the member's group writes, as the member applied it", async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.setDataFormat(1);
    expect(await sample(m, 'raftstore_data_format')).toBe(1);
    m.setDataFormat(2);
    expect(await sample(m, 'raftstore_data_format')).toBe(2);
  });

  it('records durations in seconds into the right buckets', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.observeFsync(0.05); // 50 µs: under the smallest bucket, 0.1 ms
    m.observeFsync(3); // 3 ms
    m.observeFsync(1500);
    expect(await sample(m, 'raftstore_wal_fsync_seconds_bucket{le="0.0001"}')).toBe(1);
    expect(await sample(m, 'raftstore_wal_fsync_seconds_bucket{le="0.005"}')).toBe(2);
    expect(await sample(m, 'raftstore_wal_fsync_seconds_bucket{le="2"}')).toBe(3);
    expect(await sample(m, 'raftstore_wal_fsync_seconds_sum')).toBeCloseTo(1.50305, 6);

    m.observeApply(20);
    m.observeReadIndex(2);
    expect(await sample(m, 'raftstore_apply_seconds_sum')).toBeCloseTo(0.02, 6);
    expect(await sample(m, 'raftstore_read_index_seconds_count')).toBe(1);
  });

  it('records a bad duration as zero instead of throwing', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.observeFsync(-5);
    m.observeApply(Number.NaN);
    expect(await sample(m, 'raftstore_wal_fsync_seconds_sum')).toBe(0);
    expect(await sample(m, 'raftstore_apply_seconds_count')).toBe(1);
  });

  it('records WAL append sizes and snapshots by phase', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    m.observeWalAppend(1000);
    m.observeWalAppend(5000);
    m.observeSnapshot('save', 4096, 120);
    m.observeSnapshot('send', 8192, 2500);
    expect(await sample(m, 'raftstore_wal_append_bytes_bucket{le="1024"}')).toBe(1);
    expect(await sample(m, 'raftstore_wal_append_bytes_sum')).toBe(6000);
    expect(await sample(m, 'raftstore_snapshot_bytes')).toBe(8192);
    expect(await sample(m, 'raftstore_snapshot_seconds_count{phase="save"}')).toBe(1);
    expect(await sample(m, 'raftstore_snapshot_seconds_sum{phase="send"}')).toBe(2.5);
  });

  it('times gRPC requests with the injected clock, tracks in-flight, and counts each end once', async () => {
    let now = 1000;
    const m = new NodeMetrics({ processMetrics: false, nowMs: () => now });
    const endPut = m.startGrpcRequest('raftstore.v1.KV', 'Put');
    const endRange = m.startGrpcRequest('raftstore.v1.KV', 'Range');
    expect(await sample(m, 'raftstore_grpc_in_flight{service="raftstore.v1.KV"}')).toBe(2);
    now += 250;
    endPut(status.OK);
    endPut(status.INTERNAL);
    endRange(status.UNAVAILABLE);
    expect(await sample(m, 'raftstore_grpc_in_flight{service="raftstore.v1.KV"}')).toBe(0);
    expect(
      await sample(m, 'raftstore_grpc_requests_total{service="raftstore.v1.KV",method="Put",code="OK"}'),
    ).toBe(1);
    expect(
      await sample(
        m,
        'raftstore_grpc_requests_total{service="raftstore.v1.KV",method="Put",code="INTERNAL"}',
      ),
    ).toBeUndefined();
    expect(
      await sample(
        m,
        'raftstore_grpc_requests_total{service="raftstore.v1.KV",method="Range",code="UNAVAILABLE"}',
      ),
    ).toBe(1);
    expect(
      await sample(m, 'raftstore_grpc_request_seconds_sum{service="raftstore.v1.KV",method="Put"}'),
    ).toBe(0.25);
  });

  it('maps the replica observer hooks onto the metrics', async () => {
    const m = new NodeMetrics({ processMetrics: false });
    const o = m.replicaObserver();
    o.onFsync(1);
    o.onApply(3, 1);
    o.onProposals(2, 'refused');
    o.onSnapshot(10, 1);
    o.onReadIndex(1);
    expect(await sample(m, 'raftstore_wal_fsync_seconds_count')).toBe(1);
    expect(await sample(m, 'raftstore_apply_seconds_count')).toBe(1);
    expect(await sample(m, 'raftstore_proposals_total{result="refused"}')).toBe(2);
    expect(await sample(m, 'raftstore_snapshot_seconds_count{phase="save"}')).toBe(1);
    expect(await sample(m, 'raftstore_read_index_seconds_count')).toBe(1);
  });

  it('declares every series the node promises, with HELP and TYPE', async () => {
    const text = await new NodeMetrics({ processMetrics: false }).metrics();
    const expected: [string, string][] = [
      ['term', 'gauge'],
      ['is_leader', 'gauge'],
      ['has_leader', 'gauge'],
      ['commit_index', 'gauge'],
      ['applied_index', 'gauge'],
      ['proposals_total', 'counter'],
      ['proposals_pending', 'gauge'],
      ['leader_changes_total', 'counter'],
      ['elections_total', 'counter'],
      ['wal_fsync_seconds', 'histogram'],
      ['wal_append_bytes', 'histogram'],
      ['apply_seconds', 'histogram'],
      ['snapshot_bytes', 'gauge'],
      ['snapshot_seconds', 'histogram'],
      ['peer_lag_entries', 'gauge'],
      ['peer_connected', 'gauge'],
      ['grpc_requests_total', 'counter'],
      ['grpc_request_seconds', 'histogram'],
      ['grpc_in_flight', 'gauge'],
      ['read_index_seconds', 'histogram'],
    ];
    for (const [name, type] of expected) {
      expect(text).toContain(`# HELP raftstore_${name} `);
      expect(text).toContain(`# TYPE raftstore_${name} ${type}`);
    }
  });
});
