import { decodeConfChange, encodeConfChange } from '../raft/conf-change.js';
import type { ConfChange, Entry, SnapshotMetadata } from '../raft/types.js';
import { ForceNewClusterError, confStateAt, planForceNewCluster } from './force-new-cluster.js';

const SNAPSHOT: SnapshotMetadata = {
  index: 10,
  term: 2,
  confState: { voters: ['a', 'b', 'c'], learners: [] },
};

function normal(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(`put ${index}`) };
}

function conf(index: number, term: number, cc: ConfChange): Entry {
  return { index, term, type: 'confChange', data: encodeConfChange(cc) };
}

/** Entries 11..last at term 3, with the given conf changes in place of normal entries. */
function log(last: number, changes: Record<number, ConfChange> = {}): Entry[] {
  const out: Entry[] = [];
  for (let i = SNAPSHOT.index + 1; i <= last; i++) {
    const cc = changes[i];
    out.push(cc ? conf(i, 3, cc) : normal(i, 3));
  }
  return out;
}

describe('planForceNewCluster', () => {
  it('removes every other voter and every learner, in entries right after the commit index at the current term', () => {
    const entries = log(14, { 12: { type: 'addLearner', nodeId: 'd', context: '{}' } });
    const plan = planForceNewCluster({
      snapshot: SNAPSHOT,
      entries,
      hardState: { term: 5, vote: 'a', commit: 14 },
      self: 'b',
    });
    expect(plan.confAtCommit).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(plan.removed).toEqual(['a', 'c', 'd']);
    expect(plan.appended.map((e) => [e.index, e.term, e.type, decodeConfChange(e.data)])).toEqual([
      [15, 5, 'confChange', { type: 'remove', nodeId: 'a' }],
      [16, 5, 'confChange', { type: 'remove', nodeId: 'c' }],
      [17, 5, 'confChange', { type: 'remove', nodeId: 'd' }],
    ]);
    // Encoded exactly as a proposed conf change: the replica and the core decode them like any other.
    expect(plan.appended[0]!.data).toEqual(encodeConfChange({ type: 'remove', nodeId: 'a' }));
    expect(plan.hardState).toEqual({ term: 5, vote: 'a', commit: 17 });
    expect(plan.entries.map((e) => e.index)).toEqual([11, 12, 13, 14, 15, 16, 17]);
    expect(plan.walEntries).toEqual(plan.appended);
    expect(plan.rewriteSnapshotMarker).toBe(false);
    // The configuration the core reaches by applying the new log: this member alone.
    expect(confStateAt(SNAPSHOT, plan.entries, plan.hardState.commit)).toEqual({
      voters: ['b'],
      learners: [],
    });
  });

  it('keeps the entries up to the commit index and discards those after it', () => {
    const entries = log(20);
    const plan = planForceNewCluster({
      snapshot: SNAPSHOT,
      entries,
      hardState: { term: 4, vote: 'a', commit: 15 },
      self: 'a',
    });
    expect(plan).toMatchObject({ commit: 15, lastIndex: 20, lastLogTerm: 3, discarded: 5 });
    expect(plan.entries.slice(0, 5)).toEqual(entries.slice(0, 5));
    expect(plan.entries.map((e) => e.index)).toEqual([11, 12, 13, 14, 15, 16, 17]);
    expect(plan.entries.slice(5).every((e) => e.type === 'confChange' && e.term === 4)).toBe(true);
    // The appended entries start at commit+1: replaying the WAL they replace the discarded suffix.
    expect(plan.walEntries[0]!.index).toBe(16);
  });

  it('does not count a conf change after the commit index: it was never committed', () => {
    const entries = log(14, { 13: { type: 'addLearner', nodeId: 'd' }, 14: { type: 'remove', nodeId: 'c' } });
    const plan = planForceNewCluster({
      snapshot: SNAPSHOT,
      entries,
      hardState: { term: 3, vote: '', commit: 13 },
      self: 'a',
    });
    expect(plan.confAtCommit).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    // c is removed by this plan, not by the uncommitted entry 14, which is discarded.
    expect(plan.removed).toEqual(['b', 'c', 'd']);
    expect(plan.discarded).toBe(1);
    expect(plan.entries.map((e) => e.index)).toEqual([11, 12, 13, 14, 15, 16]);
    expect(decodeConfChange(plan.entries[3]!.data)).toEqual({ type: 'remove', nodeId: 'b' });
  });

  it('needs no entries for a member that is alone already, and changes nothing when run on its own result', () => {
    const alone: SnapshotMetadata = { ...SNAPSHOT, confState: { voters: ['a'], learners: [] } };
    const plan = planForceNewCluster({
      snapshot: alone,
      entries: log(12),
      hardState: { term: 3, vote: 'a', commit: 12 },
      self: 'a',
    });
    expect(plan.appended).toEqual([]);
    expect(plan.removed).toEqual([]);
    expect(plan.walEntries).toEqual([]);
    expect(plan.rewriteSnapshotMarker).toBe(false);
    expect(plan.hardState).toEqual({ term: 3, vote: 'a', commit: 12 });

    const first = planForceNewCluster({
      snapshot: SNAPSHOT,
      entries: log(14),
      hardState: { term: 3, vote: '', commit: 12 },
      self: 'a',
    });
    const again = planForceNewCluster({
      snapshot: SNAPSHOT,
      entries: first.entries,
      hardState: first.hardState,
      self: 'a',
    });
    expect(again.appended).toEqual([]);
    expect(again.discarded).toBe(0);
    expect(again.walEntries).toEqual([]);
    expect(again.entries).toEqual(first.entries);
  });

  it('rewrites the commit entry, or the snapshot marker, to discard a suffix when nothing is appended', () => {
    const alone: SnapshotMetadata = { ...SNAPSHOT, confState: { voters: ['a'], learners: [] } };
    const entries = log(14);
    const rewrite = planForceNewCluster({
      snapshot: alone,
      entries,
      hardState: { term: 3, vote: 'a', commit: 12 },
      self: 'a',
    });
    expect(rewrite.walEntries).toEqual([entries[1]]);
    expect(rewrite.entries).toEqual(entries.slice(0, 2));
    expect(rewrite.rewriteSnapshotMarker).toBe(false);

    const atSnapshot = planForceNewCluster({
      snapshot: alone,
      entries,
      hardState: { term: 3, vote: 'a', commit: 10 },
      self: 'a',
    });
    expect(atSnapshot.walEntries).toEqual([]);
    expect(atSnapshot.entries).toEqual([]);
    expect(atSnapshot.rewriteSnapshotMarker).toBe(true);
  });

  it('refuses when this member is not a voter in the configuration at the commit index', () => {
    const learner = { ...SNAPSHOT, confState: { voters: ['a', 'b'], learners: ['c'] } };
    expect(() =>
      planForceNewCluster({
        snapshot: learner,
        entries: log(12),
        hardState: { term: 3, vote: '', commit: 12 },
        self: 'c',
      }),
    ).toThrow(
      new ForceNewClusterError(
        'c is not a voter in the configuration at commit index 12 (voters a, b, learners c): only a voter may become the one voter of a new cluster',
      ),
    );
    // Promoted only after the commit index: still a learner as far as the committed log goes.
    expect(() =>
      planForceNewCluster({
        snapshot: learner,
        entries: log(13, { 13: { type: 'promote', nodeId: 'c' } }),
        hardState: { term: 3, vote: '', commit: 12 },
        self: 'c',
      }),
    ).toThrow(ForceNewClusterError);
    // Removed by a committed entry.
    expect(() =>
      planForceNewCluster({
        snapshot: SNAPSHOT,
        entries: log(12, { 12: { type: 'remove', nodeId: 'c' } }),
        hardState: { term: 3, vote: '', commit: 12 },
        self: 'c',
      }),
    ).toThrow(/c is not a voter in the configuration at commit index 12 \(voters a, b, learners none\)/);
  });

  it('refuses a log that does not fit its hard state', () => {
    const input = { snapshot: SNAPSHOT, entries: log(12), self: 'a' };
    expect(() => planForceNewCluster({ ...input, hardState: { term: 3, vote: '', commit: 13 } })).toThrow(
      'the commit index 13 lies outside the log [10, 12]; the data directory is inconsistent',
    );
    expect(() => planForceNewCluster({ ...input, hardState: { term: 2, vote: '', commit: 12 } })).toThrow(
      'the current term 2 is below the last log term 3; the data directory is inconsistent',
    );
    expect(() =>
      planForceNewCluster({
        ...input,
        entries: [normal(12, 3)],
        hardState: { term: 3, vote: '', commit: 12 },
      }),
    ).toThrow('the log is not contiguous after the snapshot at 10: entry 0 has index 12');
  });
});
