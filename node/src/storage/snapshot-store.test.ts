import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Snapshot } from '../raft/types.js';
import { SnapshotCorruptionError } from './errors.js';
import { parseSnapshotFileName, snapshotFileName, SnapshotStore } from './snapshot-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snap-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const snap = (index: number, term: number, fill = index): Snapshot => ({
  metadata: { index, term, confState: { voters: ['a', 'b', 'c'], learners: [] } },
  data: new Uint8Array(64).fill(fill & 0xff),
});

const open = (retain = 2): Promise<SnapshotStore> =>
  SnapshotStore.open(dir, { retain, maxSnapshotBytes: 1 << 20 });

describe('SnapshotStore', () => {
  it('names files by index and term so they sort by index', () => {
    const n = snapshotFileName(0x10, 3);
    expect(n.fileName).toBe('0000000000000010-0000000000000003.snap');
    expect(parseSnapshotFileName(n.fileName)).toEqual(n);
    expect(parseSnapshotFileName(`${n.fileName}.tmp`)).toBeUndefined();
  });

  it('saves and reads back a snapshot', async () => {
    const store = await open();
    await store.save(snap(10, 2));
    const [newest] = await store.list();
    expect(newest).toMatchObject({ index: 10, term: 2 });
    expect(await store.read(newest!)).toEqual(snap(10, 2));
  });

  it('keeps only the newest `retain` files', async () => {
    const store = await open(2);
    for (const i of [10, 20, 30, 40]) await store.save(snap(i, 1));
    expect((await store.list()).map((s) => s.index)).toEqual([40, 30]);
    expect((await readdir(dir)).sort()).toEqual([
      snapshotFileName(30, 1).fileName,
      snapshotFileName(40, 1).fileName,
    ]);
  });

  it('ignores and removes a temp file left by a crashed save', async () => {
    const store = await open();
    await store.save(snap(10, 1));
    // A crash after writing part of the next snapshot's temp file but before the rename.
    const leftover = `${snapshotFileName(20, 1).fileName}.tmp`;
    await writeFile(join(dir, leftover), new Uint8Array(7));
    expect((await store.list()).map((s) => s.index)).toEqual([10]);
    const reopened = await open();
    expect(await readdir(dir)).toEqual([snapshotFileName(10, 1).fileName]);
    expect(await reopened.read((await reopened.list())[0]!)).toEqual(snap(10, 1));
  });

  it('reports a damaged file by name', async () => {
    const store = await open();
    await store.save(snap(10, 1));
    const [name] = await store.list();
    const path = join(dir, name!.fileName);
    const bytes = await readFile(path);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    await writeFile(path, bytes);
    await expect(store.read(name!)).rejects.toThrow(SnapshotCorruptionError);
    await expect(store.read(name!)).rejects.toThrow(`snapshot ${path}: checksum mismatch`);
  });

  it('reports a file whose contents disagree with its name', async () => {
    const store = await open();
    await store.save(snap(10, 1));
    const wrongName = join(dir, snapshotFileName(11, 1).fileName);
    await writeFile(wrongName, await readFile(join(dir, snapshotFileName(10, 1).fileName)));
    await expect(store.read(snapshotFileName(11, 1))).rejects.toThrow(
      /holds index 10 term 1, not what its name says/,
    );
  });

  it('refuses a file over the size bound', async () => {
    await (await open()).save(snap(10, 1));
    const small = await SnapshotStore.open(dir, { retain: 1, maxSnapshotBytes: 10 });
    await expect(small.read(snapshotFileName(10, 1))).rejects.toThrow(/exceeds the 10-byte bound/);
  });

  it('quarantines a damaged file so it no longer counts', async () => {
    const store = await open();
    await store.save(snap(10, 1));
    await store.quarantine(snapshotFileName(10, 1));
    expect(await store.list()).toEqual([]);
    expect(await readdir(dir)).toEqual([`${snapshotFileName(10, 1).fileName}.broken`]);
  });

  it('refuses a retain count below 1', async () => {
    await expect(open(0)).rejects.toThrow(/retain must be an integer >= 1/);
  });
});
