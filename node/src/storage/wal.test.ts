import { mkdtemp, readFile, readdir, rm, stat, truncate, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, HardState } from '../raft/types.js';
import { StorageUsageError, WalCorruptionError } from './errors.js';
import { SegmentedWal, type WalOptions } from './wal.js';
import type { WalRecord } from './wal-record.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wal-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let clock = 0;
const options = (overrides: Partial<WalOptions> = {}): WalOptions => ({
  segmentBytes: 1 << 20,
  maxRecordBytes: 1 << 16,
  maxAppendBytes: 1 << 20,
  maxSegmentFileBytes: 1 << 24,
  now: () => clock++,
  ...overrides,
});

const entry = (index: number, term: number, size = 8, fill = index): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array(size).fill(fill & 0xff),
});
const ents = (from: number, to: number, term: number, size = 8): WalRecord[] =>
  Array.from(
    { length: to - from + 1 },
    (_, i) => ({ kind: 'entry', entry: entry(from + i, term, size) }) as const,
  );
const hs = (term: number, commit: number, vote = 'n1'): WalRecord => ({
  kind: 'hardState',
  hardState: { term, vote, commit },
});
const ids = (entries: readonly Entry[]): string[] => entries.map((e) => `${e.index}@${e.term}`);

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.wal')).sort();
}

async function reopen(o: WalOptions = options()): Promise<Awaited<ReturnType<typeof SegmentedWal.open>>> {
  return SegmentedWal.open(dir, o, 1);
}

async function openError(): Promise<unknown> {
  return reopen().then(
    async (r) => {
      await r.wal.close();
      return undefined;
    },
    (err: unknown) => err,
  );
}

describe('SegmentedWal', () => {
  it('round-trips entries and hard state across a reopen', async () => {
    const { wal, log } = await reopen();
    expect(log).toEqual({ entries: [] });
    await wal.append([...ents(1, 3, 1), hs(1, 2)]);
    await wal.append([...ents(4, 5, 2), hs(2, 4, 'n2')]);
    expect(wal.lastIndex).toBe(5);
    await wal.close();

    const again = await reopen();
    expect(ids(again.log.entries)).toEqual(['1@1', '2@1', '3@1', '4@2', '5@2']);
    expect(again.log.entries[2]!.data).toEqual(new Uint8Array(8).fill(3));
    expect(again.log.hardState).toEqual<HardState>({ term: 2, vote: 'n2', commit: 4 });
    expect(again.truncatedTail).toBeUndefined();
    expect(again.wal.lastIndex).toBe(5);
    await again.wal.close();
  });

  it('makes each append durable with exactly one fdatasync, and none for an empty append', async () => {
    const syncs: number[] = [];
    const { wal } = await reopen(options({ onFsync: (_ms, bytes) => syncs.push(bytes) }));
    await wal.append(ents(1, 64, 1, 256));
    await wal.append([hs(1, 64)]);
    await wal.append([]);
    await wal.close();
    expect(syncs).toEqual([64 * (16 + 17 + 256), 16 + 16 + 2]);
  });

  it('skips the fdatasync for an unsynced append and makes it durable at the next sync point', async () => {
    const syncs: number[] = [];
    const { wal } = await reopen(options({ segmentBytes: 200, onFsync: (_ms, bytes) => syncs.push(bytes) }));
    await wal.append([hs(1, 0)], false);
    expect(syncs).toEqual([]);
    // The next synced append covers both writes.
    await wal.append(ents(1, 1, 1), true);
    expect(syncs).toEqual([16 + 16 + 2 + 16 + 17 + 8]);
    await wal.append(ents(2, 2, 1, 100), false);
    expect(syncs).toHaveLength(1);
    // Starting a new segment syncs the sealed one first, then the new one.
    await wal.append(ents(3, 3, 1), false);
    expect(syncs).toEqual([16 + 16 + 2 + 16 + 17 + 8, 16 + 17 + 100, 16 + 16 + 2 + 16 + 17 + 8]);
    await wal.append(ents(4, 4, 1), false);
    await wal.close();
    expect(syncs).toHaveLength(4);
    const r = await reopen();
    expect(ids(r.log.entries)).toEqual(['1@1', '2@1', '3@1', '4@1']);
    await r.wal.close();
  });

  it('recovers the last complete record when the file is cut at any byte of the last record', async () => {
    const { wal } = await reopen();
    await wal.append([...ents(1, 2, 1, 40), hs(1, 1)]);
    const [file] = await segmentFiles();
    const path = join(dir, file!);
    const before = (await stat(path)).size;
    await wal.append(ents(3, 3, 1, 40));
    await wal.close();
    const full = await readFile(path);
    expect(full.length).toBe(before + 16 + 17 + 40);

    for (let cut = before + 1; cut < full.length; cut++) {
      await writeFile(path, full.subarray(0, cut));
      const r = await reopen();
      expect(ids(r.log.entries)).toEqual(['1@1', '2@1']);
      expect(r.log.hardState?.commit).toBe(1);
      expect(r.truncatedTail).toMatchObject({ file: path, offset: before, droppedBytes: cut - before });
      await r.wal.close();
      expect((await stat(path)).size).toBe(before);
    }

    // After the truncation, appends continue where the valid data ended.
    const r = await reopen();
    await r.wal.append(ents(3, 3, 2));
    await r.wal.close();
    const after = await reopen();
    expect(ids(after.log.entries)).toEqual(['1@1', '2@1', '3@2']);
    await after.wal.close();
  });

  it('truncates a zero-filled tail', async () => {
    const { wal } = await reopen();
    await wal.append(ents(1, 2, 1));
    await wal.close();
    const path = join(dir, (await segmentFiles())[0]!);
    const size = (await stat(path)).size;
    await appendFile(path, new Uint8Array(4096));
    const r = await reopen();
    expect(ids(r.log.entries)).toEqual(['1@1', '2@1']);
    expect(r.truncatedTail).toMatchObject({ offset: size, droppedBytes: 4096 });
    await r.wal.close();
    expect((await stat(path)).size).toBe(size);
  });

  it('refuses to open when a byte of an early record is flipped, naming the file and offset', async () => {
    const { wal } = await reopen();
    await wal.append(ents(1, 1, 1, 20));
    const path = join(dir, (await segmentFiles())[0]!);
    const secondRecord = (await stat(path)).size;
    await wal.append(ents(2, 2, 1, 20));
    await wal.append(ents(3, 3, 1, 20));
    await wal.close();
    const good = await readFile(path);
    const recordBytes = 16 + 17 + 20;

    for (let i = secondRecord; i < secondRecord + recordBytes; i++) {
      const bad = Buffer.from(good);
      bad[i] = bad[i]! ^ 0x01;
      await writeFile(path, bad);
      const err = await openError();
      expect(err).toBeInstanceOf(WalCorruptionError);
      expect(err).toMatchObject({ file: path, offset: secondRecord });
      expect((err as Error).message).toContain(`${path} is corrupt at byte offset ${secondRecord}`);
    }
    // The file was not truncated: nothing was dropped.
    expect((await stat(path)).size).toBe(good.length);
  });

  it('rolls over to a new segment named by its first index, starting with the current hard state', async () => {
    const { wal } = await reopen(options({ segmentBytes: 300 }));
    for (let i = 1; i <= 20; i++) await wal.append([...ents(i, i, 1, 50), hs(1, i - 1)]);
    await wal.close();
    const files = await segmentFiles();
    expect(files.length).toBeGreaterThan(3);
    expect(files[0]).toBe('0000000000000000-0000000000000001.wal');
    // Each segment closes at the first append that takes it past 300 bytes: 3 appends of 16+17+50 + 16+16+2 bytes.
    expect(files[1]).toBe('0000000000000001-0000000000000004.wal');
    const r = await reopen(options({ segmentBytes: 300 }));
    expect(ids(r.log.entries)).toEqual(Array.from({ length: 20 }, (_, i) => `${i + 1}@1`));
    expect(r.log.hardState?.commit).toBe(19);
    expect(r.wal.segmentNames.map((s) => s.fileName)).toEqual(files);
    await r.wal.close();
  });

  it('replays overwrites of a suffix that spans segment boundaries', async () => {
    const o = options({ segmentBytes: 200 });
    const { wal } = await reopen(o);
    for (let i = 1; i <= 12; i++) await wal.append(ents(i, i, 1, 100));
    const segmentsBefore = (await segmentFiles()).length;
    expect(segmentsBefore).toBeGreaterThan(4);
    // A new leader overwrites from index 3: the suffix 3..12 lives in several older segments.
    await wal.append([...ents(3, 5, 2, 10), hs(2, 2)]);
    expect(wal.lastIndex).toBe(5);
    await wal.close();
    const r = await reopen(o);
    expect(ids(r.log.entries)).toEqual(['1@1', '2@1', '3@2', '4@2', '5@2']);
    await r.wal.append(ents(6, 6, 2));
    await r.wal.close();
    const again = await reopen(o);
    expect(ids(again.log.entries)).toEqual(['1@1', '2@1', '3@2', '4@2', '5@2', '6@2']);
    // The overwriting segment was named after the overwritten index, so compaction knows the older segments'
    // entries above 2 are dead.
    expect(again.wal.segmentNames[again.wal.segmentNames.length - 1]!.firstIndex).toBeLessThanOrEqual(6);
    await again.wal.close();
  });

  it('compacts whole segments at or below an index and keeps the hard state', async () => {
    const o = options({ segmentBytes: 200 });
    const { wal } = await reopen(o);
    await wal.append([...ents(1, 1, 1, 100), hs(1, 1, 'keep-me')]);
    for (let i = 2; i <= 10; i++) await wal.append(ents(i, i, 1, 100));
    const names = wal.segmentNames.map((s) => s.firstIndex);
    expect(names).toEqual([1, 3, 5, 7, 9]);
    // Segments 1.. and 3.. hold entries 1..4 only: both go.
    expect(await wal.compact(4)).toBe(2);
    expect(await wal.compact(4)).toBe(0);
    expect(await wal.compact(7)).toBe(1);
    expect(wal.segmentNames.map((s) => s.firstIndex)).toEqual([7, 9]);
    expect(await wal.compact(1000)).toBe(1);
    await wal.close();
    expect(await segmentFiles()).toEqual(['0000000000000004-0000000000000009.wal']);
    const r = await reopen(o);
    expect(r.log.firstIndex).toBe(9);
    expect(ids(r.log.entries)).toEqual(['9@1', '10@1']);
    // The only hard state record was in the first segment; the segment prelude carried it forward.
    expect(r.log.hardState).toEqual({ term: 1, vote: 'keep-me', commit: 1 });
    await r.wal.close();
  });

  it('treats damage at the end of a sealed segment as corruption', async () => {
    const o = options({ segmentBytes: 100 });
    const { wal } = await reopen(o);
    for (let i = 1; i <= 3; i++) await wal.append(ents(i, i, 1, 100));
    await wal.close();
    const [first] = await segmentFiles();
    const path = join(dir, first!);
    await truncate(path, (await stat(path)).size - 1);
    await expect(reopen(o)).rejects.toMatchObject({ name: 'WalCorruptionError', file: path, offset: 0 });
  });

  it('refuses a missing segment in the middle', async () => {
    const o = options({ segmentBytes: 100 });
    const { wal } = await reopen(o);
    for (let i = 1; i <= 3; i++) await wal.append(ents(i, i, 1, 100));
    await wal.close();
    const files = await segmentFiles();
    await rm(join(dir, files[1]!));
    await expect(reopen(o)).rejects.toThrow(/segment sequence 1 is missing/);
  });

  it('refuses records that break the log rules, naming where', async () => {
    const { wal } = await reopen();
    await wal.append(ents(1, 1, 1));
    await wal.append(ents(3, 3, 1));
    await wal.close();
    const err = await openError();
    expect(err).toBeInstanceOf(WalCorruptionError);
    expect((err as WalCorruptionError).offset).toBe(16 + 17 + 8);
    expect((err as Error).message).toMatch(/entry 3 leaves a hole/);
  });

  it('refuses oversized records and overlapping calls without failing the WAL', async () => {
    const { wal } = await reopen(options({ maxRecordBytes: 100, maxAppendBytes: 1000 }));
    await expect(wal.append(ents(1, 1, 1, 84))).rejects.toThrow(/101 bytes exceeds the 100-byte/);
    await expect(wal.append([{ kind: 'entry', entry: entry(-1, 1) }])).rejects.toThrow(RangeError);
    await expect(wal.append(ents(1, 20, 1, 50))).rejects.toThrow(
      /an append of 1660 bytes exceeds the 1000-byte maxAppendBytes/,
    );
    const first = wal.append(ents(1, 1, 1));
    await expect(wal.append(ents(2, 2, 1))).rejects.toThrow(StorageUsageError);
    await first;
    await wal.append(ents(2, 2, 1));
    expect(wal.lastIndex).toBe(2);
    await wal.close();
    await expect(wal.append(ents(3, 3, 1))).rejects.toThrow(/closed/);
  });

  it('refuses a segment file larger than the read-back bound', async () => {
    const { wal } = await reopen();
    await wal.append(ents(1, 4, 1, 100));
    await wal.close();
    await expect(reopen(options({ maxSegmentFileBytes: 100 }))).rejects.toThrow(
      /more than the 100-byte bound/,
    );
  });

  it('refuses invalid options', async () => {
    await expect(reopen(options({ segmentBytes: 0 }))).rejects.toThrow(
      /segmentBytes must be a positive integer/,
    );
  });
});
