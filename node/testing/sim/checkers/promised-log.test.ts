import type { Entry, HardState, Snapshot } from '../../src/raft/index.js';
import { DiskError, SimDisk } from './disk.js';
import { Prng } from '../../src/random/prng.js';

function e(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array([index]) };
}
const hs = (term: number, commit: number): HardState => ({ term, vote: '', commit });
const snap = (index: number, term: number): Snapshot => ({
  metadata: { index, term, confState: { voters: ['n1'], learners: [] } },
  data: new Uint8Array([9]),
});

describe('SimDisk', () => {
  test('the durable log view: terms from the snapshot on, nothing for unsynced writes', () => {
    const disk = new SimDisk({ snapshot: snap(3, 2), entries: [e(4, 2), e(5, 3)], hardState: hs(3, 5) });
    disk.write({ kind: 'entry', entry: e(6, 3) });
    expect([disk.durableFirstIndex(), disk.durableLastIndex()]).toEqual([4, 5]);
    expect([2, 3, 4, 5, 6].map((i) => disk.durableTermAt(i))).toEqual([undefined, 2, 2, 3, undefined]);
    disk.sync();
    expect(disk.durableTermAt(6)).toBe(3);
    const empty = new SimDisk();
    expect([empty.durableFirstIndex(), empty.durableLastIndex(), empty.durableTermAt(0)]).toEqual([1, 0, 0]);
  });

  test('synced writes survive a crash; a crash keeps only a prefix of the unsynced ones', () => {
    for (let seed = 0; seed < 50; seed++) {
      const disk = new SimDisk();
      disk.write({ kind: 'entry', entry: e(1, 1) });
      disk.write({ kind: 'hardState', hardState: hs(1, 1) });
      disk.sync();
      disk.write({ kind: 'entry', entry: e(2, 1) });
      disk.write({ kind: 'entry', entry: e(3, 1) });
      disk.write({ kind: 'hardState', hardState: hs(2, 3) });
      const { kept, lost } = disk.crash(new Prng(seed));
      expect(kept + lost).toBe(3);
      const d = disk.durable();
      // Never a later write without the earlier ones.
      expect(d.entries.map((x) => x.index)).toEqual([1, 2, 3].slice(0, 1 + Math.min(kept, 2)));
      expect(d.hardState).toEqual(kept === 3 ? hs(2, 3) : hs(1, 1));
    }
  });

  test('some crashes lose everything unsynced and some keep it all', () => {
    const outcomes = new Set<number>();
    for (let seed = 0; seed < 100; seed++) {
      const disk = new SimDisk();
      disk.write({ kind: 'entry', entry: e(1, 1) });
      disk.write({ kind: 'entry', entry: e(2, 1) });
      outcomes.add(disk.crash(new Prng(seed)).kept);
    }
    expect([...outcomes].sort()).toEqual([0, 1, 2]);
  });

  test('an entry overwrites the conflicting suffix', () => {
    const disk = new SimDisk();
    for (const x of [e(1, 1), e(2, 1), e(3, 1)]) disk.write({ kind: 'entry', entry: x });
    disk.write({ kind: 'entry', entry: e(2, 2) });
    disk.sync();
    expect(disk.durable().entries.map((x) => `${x.index}@${x.term}`)).toEqual(['1@1', '2@2']);
  });

  test('an installed snapshot replaces the log; a compaction keeps the entries after it', () => {
    const disk = new SimDisk();
    for (const x of [e(1, 1), e(2, 1), e(3, 1), e(4, 2)]) disk.write({ kind: 'entry', entry: x });
    disk.compact(snap(2, 1));
    expect(disk.durable().entries.map((x) => x.index)).toEqual([3, 4]);
    expect(disk.durable().snapshot?.metadata.index).toBe(2);
    disk.write({ kind: 'installSnapshot', snapshot: snap(10, 3) });
    disk.write({ kind: 'entry', entry: e(11, 3) });
    disk.sync();
    expect(disk.durable().entries.map((x) => x.index)).toEqual([11]);
    expect(disk.durable().snapshot?.metadata.index).toBe(10);
  });

  test('a write after a gap is a host bug and fails loudly', () => {
    const disk = new SimDisk();
    disk.write({ kind: 'entry', entry: e(3, 1) });
    expect(() => disk.sync()).toThrow(DiskError);
    const d2 = new SimDisk();
    expect(() => d2.compact(snap(5, 1))).toThrow(/beyond the durable log end/);
  });
});
