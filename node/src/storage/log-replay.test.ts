import type { Entry } from '../raft/types.js';
import { LogReplay, ReplayRuleError } from './log-replay.js';
import { reconcile } from './recovery.js';
import type { WalRecord } from './wal-record.js';

const at = { file: 'f.wal', offset: 0 };
const e = (index: number, term: number, tag = 0): WalRecord => ({
  kind: 'entry',
  entry: { index, term, type: 'normal', data: Uint8Array.of(tag) },
});
const summary = (entries: readonly Entry[]): string[] =>
  entries.map((x) => `${x.index}@${x.term}#${x.data[0]}`);

function replay(records: WalRecord[]): LogReplay {
  const r = new LogReplay();
  records.forEach((rec, i) => r.apply(rec, { file: 'f.wal', offset: i }));
  return r;
}

describe('LogReplay', () => {
  it('appends contiguous entries and keeps the last hard state', () => {
    const r = replay([
      e(1, 1),
      e(2, 1),
      { kind: 'hardState', hardState: { term: 1, vote: 'a', commit: 1 } },
      e(3, 2),
      { kind: 'hardState', hardState: { term: 2, vote: 'b', commit: 2 } },
    ]);
    expect(summary(r.result().entries)).toEqual(['1@1#0', '2@1#0', '3@2#0']);
    expect(r.result().hardState).toEqual({ term: 2, vote: 'b', commit: 2 });
    expect(r.lastIndex()).toBe(3);
  });

  it('replaces the suffix from an overwriting entry on', () => {
    const r = replay([e(1, 1), e(2, 1), e(3, 1), e(4, 1), e(2, 2, 9), e(3, 2, 9)]);
    expect(summary(r.result().entries)).toEqual(['1@1#0', '2@2#9', '3@2#9']);
  });

  it('replaces the whole log at a snapshot marker', () => {
    const r = replay([e(1, 1), e(2, 1), { kind: 'snapshot', index: 10, term: 3 }]);
    expect(r.result()).toMatchObject({ firstIndex: 11, entries: [], snapshotMarker: { index: 10, term: 3 } });
    expect(r.lastIndex()).toBe(10);
    r.apply(e(11, 3), at);
    expect(summary(r.result().entries)).toEqual(['11@3#0']);
  });

  it('starts at whatever index the first retained segment begins with', () => {
    const r = replay([e(57, 4), e(58, 4)]);
    expect(r.result().firstIndex).toBe(57);
  });

  it('restarts the log at an overwrite below the first entry of a compacted WAL', () => {
    // Segment named 57 after compaction; a later append overwrote from 55 (older segments held 55..56).
    const r = replay([e(57, 4), e(58, 4), e(55, 5, 1), e(56, 5, 1)]);
    expect(r.result().firstIndex).toBe(55);
    expect(summary(r.result().entries)).toEqual(['55@5#1', '56@5#1']);
  });

  it('rejects holes, overwrites below the first index, decreasing terms and older markers', () => {
    expect(() => replay([e(1, 1), e(3, 1)])).toThrow(/entry 3 leaves a hole after the last entry 1/);
    expect(() => replay([{ kind: 'snapshot', index: 4, term: 1 }, e(5, 1), e(4, 2)])).toThrow(
      /entry 4 overwrites the snapshot at index 4/,
    );
    expect(() => replay([e(1, 2), e(2, 1)])).toThrow(/term 1, lower than term 2/);
    expect(() =>
      replay([
        { kind: 'snapshot', index: 10, term: 3 },
        { kind: 'snapshot', index: 9, term: 3 },
      ]),
    ).toThrow(ReplayRuleError);
    expect(() => replay([e(0, 1)])).toThrow(/below 1/);
  });

  it('names the position of the offending record', () => {
    try {
      replay([e(1, 1), e(3, 1)]);
      throw new Error('expected a rule error');
    } catch (err) {
      expect(err).toBeInstanceOf(ReplayRuleError);
      expect((err as ReplayRuleError).position).toEqual({ file: 'f.wal', offset: 1 });
    }
  });
});

describe('reconcile', () => {
  const log = replay([
    e(5, 1),
    e(6, 2),
    e(7, 2),
    { kind: 'hardState', hardState: { term: 2, vote: 'a', commit: 5 } },
  ]);

  it('keeps the entries after a snapshot that matches the log', () => {
    const r = reconcile(log.result(), { index: 6, term: 2 });
    expect(summary(r.entries)).toEqual(['7@2#0']);
    expect(r.needsSnapshotMarker).toBe(false);
    expect(r.hardState).toEqual({ term: 2, vote: 'a', commit: 6 });
  });

  it('keeps everything when the snapshot ends right before the WAL', () => {
    expect(summary(reconcile(log.result(), { index: 4, term: 1 }).entries)).toEqual([
      '5@1#0',
      '6@2#0',
      '7@2#0',
    ]);
  });

  it('drops a diverging log in favour of the snapshot', () => {
    expect(reconcile(log.result(), { index: 6, term: 3 })).toMatchObject({
      entries: [],
      needsSnapshotMarker: true,
    });
  });

  it('returns nothing when the snapshot is at or past the end of the log', () => {
    expect(reconcile(log.result(), { index: 7, term: 2 })).toMatchObject({
      entries: [],
      needsSnapshotMarker: false,
    });
    expect(reconcile(log.result(), { index: 20, term: 5 })).toMatchObject({
      entries: [],
      needsSnapshotMarker: true,
    });
  });

  it('refuses a hole between the snapshot and the first WAL entry', () => {
    expect(() => reconcile(log.result(), { index: 3, term: 1 })).toThrow(/entries 4..4 are missing/);
    expect(() => reconcile(log.result(), { index: 0, term: 0 })).toThrow(/entries 1..4 are missing/);
  });

  it('refuses an older snapshot after the log was replaced by a newer one', () => {
    const replaced = replay([{ kind: 'snapshot', index: 10, term: 3 }]);
    expect(() => reconcile(replaced.result(), { index: 8, term: 3 })).toThrow(/entries 9..10 are missing/);
    expect(reconcile(replaced.result(), { index: 10, term: 3 })).toMatchObject({
      entries: [],
      needsSnapshotMarker: false,
    });
  });

  it('accepts an empty WAL with any snapshot', () => {
    expect(reconcile(new LogReplay().result(), { index: 0, term: 0 })).toEqual({
      entries: [],
      needsSnapshotMarker: false,
    });
    expect(reconcile(new LogReplay().result(), { index: 9, term: 2 }).needsSnapshotMarker).toBe(true);
  });
});
