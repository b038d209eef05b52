import type { Entry, HardState, Snapshot } from '../../src/raft/types.js';
import { Prng } from '../../src/random/prng.js';
import type { DirLock } from '../../src/storage/dir-lock.js';
import { StorageFailedError } from '../../src/storage/errors.js';
import { fsyncDir, writeFileAtomic, writeFully } from '../../src/storage/fs-durable.js';
import { RaftDiskStorage, type RaftDiskStorageOptions } from '../../src/storage/raft-disk-storage.js';
import { SimFileSystem, type SimDiskOperation } from './sim-file-system.js';

const SEEDS = 200;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Resolves to 'settled' or 'pending' after a few event-loop turns: a dead operation must stay pending. */
async function outcome(p: Promise<unknown>): Promise<'settled' | 'pending'> {
  const turns = async (): Promise<'pending'> => {
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    return 'pending';
  };
  return Promise.race([
    p.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    turns(),
  ]);
}

/** A delay the test releases by hand, for operations of one kind while `holding` is set. */
function heldDelay(kind: SimDiskOperation): {
  delay: (k: SimDiskOperation) => Promise<void> | undefined;
  hold: (on: boolean) => void;
  release: () => void;
} {
  let holding = false;
  let releases: (() => void)[] = [];
  return {
    delay: (k) => {
      if (!holding || k !== kind) return undefined;
      return new Promise<void>((resolve) => releases.push(resolve));
    },
    hold: (on) => {
      holding = on;
    },
    release: () => {
      for (const r of releases) r();
      releases = [];
    },
  };
}

/** A directory `/d` whose entry and one synced file `/d/f` holding `content` are durable. */
async function durableFile(content: string): Promise<SimFileSystem> {
  const fs = new SimFileSystem();
  await fs.mkdir('/d');
  await fsyncDir('/', fs);
  const h = await fs.open('/d/f', 'w');
  await writeFully(h, bytes(content), 0);
  await h.sync();
  await h.close();
  await fsyncDir('/d', fs);
  return fs;
}

async function readOrMissing(fs: SimFileSystem, path: string): Promise<string> {
  try {
    return text(await fs.readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '<missing>';
    throw err;
  }
}

describe('SimFileSystem: file-system calls', () => {
  it('creates directories and files and lists names sorted', async () => {
    const fs = new SimFileSystem();
    expect(await fs.mkdir('/a/b/c')).toBe('/a');
    expect(await fs.mkdir('/a/b')).toBeUndefined();
    await fs.writeFile('/a/z', bytes('zz'));
    await fs.writeFile('/a/m', bytes('m'));
    expect(await fs.readdir('/a')).toEqual(['b', 'm', 'z']);
    expect((await fs.stat('/a/z')).size).toBe(2);
    expect(await fs.realpath('/a/b/../z')).toBe('/a/z');
    await fs.rename('/a/z', '/a/b/y');
    await fs.link('/a/m', '/a/n');
    await fs.unlink('/a/m');
    expect(fs.fileNames()).toEqual(['/a/b/y', '/a/n']);
    expect(text(await fs.readFile('/a/n'))).toBe('m');
  });

  it('raises errno-coded errors that name the path', async () => {
    const fs = new SimFileSystem();
    await fs.writeFile('/f', bytes('x'));
    await fs.mkdir('/d');
    await expect(fs.readFile('/nope')).rejects.toMatchObject({ code: 'ENOENT', message: /'\/nope'/ });
    await expect(fs.open('/f', 'wx')).rejects.toMatchObject({ code: 'EEXIST', message: /'\/f'/ });
    await expect(fs.readdir('/f')).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(fs.writeFile('/f/g', bytes('x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(fs.readFile('/d')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(fs.open('/d', 'r+')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(fs.link('/f', '/d')).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(fs.open('/missing/f', 'w')).rejects.toMatchObject({ code: 'ENOENT' });
    const readOnly = await fs.open('/f', 'r');
    await expect(readOnly.write(bytes('y'), 0, 1, 0)).rejects.toMatchObject({ code: 'EBADF' });
    await readOnly.close();
    await expect(readOnly.sync()).rejects.toMatchObject({ code: 'EBADF' });
  });

  it("opens with 'w' truncating, with 'r+' keeping the contents", async () => {
    const fs = new SimFileSystem();
    await fs.writeFile('/f', bytes('hello'));
    const h = await fs.open('/f', 'r+');
    await h.write(bytes('J'), 0, 1, 0);
    await h.write(bytes('!'), 0, 1, 7);
    await h.close();
    expect(await fs.readFile('/f')).toEqual(new Uint8Array([...bytes('Jello'), 0, 0, ...bytes('!')]));
    await fs.truncate('/f', 2);
    expect(text(await fs.readFile('/f'))).toBe('Je');
    await (await fs.open('/f', 'w')).close();
    expect((await fs.stat('/f')).size).toBe(0);
  });
});

describe('SimFileSystem: power loss', () => {
  it('keeps an unsynced write for some seeds and loses it for others, tearing it for some', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const fs = await durableFile('synced;');
      const h = await fs.open('/d/f', 'r+');
      await writeFully(h, bytes('unsynced-tail'), 7);
      const report = fs.crash(new Prng(seed));
      const after = await readOrMissing(fs, '/d/f');
      expect(`synced;unsynced-tail`.startsWith(after)).toBe(true);
      expect(after.startsWith('synced;')).toBe(true);
      if (after === 'synced;') seen.add('lost');
      else if (after === 'synced;unsynced-tail') seen.add('kept');
      else seen.add('torn');
      expect(report.keptWrites + report.lostWrites + report.tornWrites).toBe(1);
      expect(report.tornWrites === 1).toBe(after !== 'synced;' && after !== 'synced;unsynced-tail');
    }
    expect([...seen].sort()).toEqual(['kept', 'lost', 'torn']);
  });

  it('always keeps what was synced, and never reorders one file’s writes', async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const fs = await durableFile('');
      const h = await fs.open('/d/f', 'r+');
      let synced = '';
      let written = '';
      const rng = new Prng(seed);
      for (let i = 0; i < 8; i++) {
        const piece = `<${i}>`;
        await writeFully(h, bytes(piece), written.length);
        written += piece;
        if (rng.chance(0.3)) {
          await h.datasync();
          synced = written;
        }
      }
      fs.crash(rng.fork('crash'));
      const after = await readOrMissing(fs, '/d/f');
      expect(after.startsWith(synced)).toBe(true);
      expect(written.startsWith(after)).toBe(true);
    }
  });

  it('loses a synced file whose directory entry was never fsynced, for some seeds', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const fs = await durableFile('x');
      const h = await fs.open('/d/new', 'wx');
      await writeFully(h, bytes('data'), 0);
      await h.sync();
      await h.close();
      fs.crash(new Prng(seed));
      const after = await readOrMissing(fs, '/d/new');
      expect(['<missing>', 'data']).toContain(after);
      seen.add(after);
    }
    expect(seen.size).toBe(2);
  });

  it('loses a whole directory created without fsyncing its parent, for some seeds', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const fs = new SimFileSystem();
      await fs.mkdir('/n1/wal');
      await fs.writeFile('/n1/wal/f', bytes('x'));
      fs.crash(new Prng(seed));
      seen.add(fs.fileNames().join(',') || '<none>');
    }
    expect(seen).toContain('<none>');
    expect(seen).toContain('/n1/wal/f');
  });

  it('reverts a rename whose directory was not fsynced for some seeds, atomically', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < SEEDS; seed++) {
      const fs = await durableFile('old');
      const h = await fs.open('/d/f.tmp', 'w');
      await writeFully(h, bytes('new'), 0);
      await h.sync();
      await h.close();
      await fs.rename('/d/f.tmp', '/d/f');
      fs.crash(new Prng(seed));
      // Old contents (with or without the temp file), or the new: never neither, never a mix.
      const after = await readOrMissing(fs, '/d/f');
      expect(['old', 'new']).toContain(after);
      seen.add(after);
    }
    expect(seen.size).toBe(2);
  });

  it('keeps an atomic replace (writeFileAtomic) whole once it returns', async () => {
    for (let seed = 0; seed < SEEDS; seed++) {
      const fs = await durableFile('old');
      await writeFileAtomic('/d', 'f', bytes('new'), fs);
      fs.crash(new Prng(seed));
      expect(await readOrMissing(fs, '/d/f')).toBe('new');
    }
  });

  it('crashes the same way for the same seed', async () => {
    const run = async (): Promise<string> => {
      const fs = new SimFileSystem();
      await fs.mkdir('/a/b');
      const h = await fs.open('/a/b/f', 'w');
      for (let i = 0; i < 10; i++) await writeFully(h, bytes(`record ${i};`), i * 10);
      const report = fs.crash(new Prng(7));
      return JSON.stringify(report) + '\n' + fs.dump();
    };
    expect(await run()).toBe(await run());
  });
});

describe('SimFileSystem: latency and the crashed process', () => {
  it('never settles a handle opened before a crash, nor an operation waiting on its latency', async () => {
    const held = heldDelay('read');
    const fs = new SimFileSystem({ delay: held.delay });
    await fs.writeFile('/f', bytes('x'));
    const handle = await fs.open('/f', 'r+');
    held.hold(true);
    const waiting = fs.readFile('/f');
    fs.crash(new Prng(1));
    held.release();
    held.hold(false);
    expect(await outcome(waiting)).toBe('pending');
    expect(await outcome(handle.write(bytes('y'), 0, 1, 0))).toBe('pending');
    expect(await outcome(handle.sync())).toBe('pending');
    expect(await outcome(handle.close())).toBe('pending');
    // The restarted process works normally.
    await fs.writeFile('/g', bytes('z'));
    expect(text(await fs.readFile('/g'))).toBe('z');
  });

  it('makes durable, when the sync completes, what was written before it was called', async () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 60; seed++) {
      const held = heldDelay('sync');
      const fs = new SimFileSystem({ delay: held.delay });
      await fs.mkdir('/d');
      await fsyncDir('/', fs);
      const h = await fs.open('/d/f', 'w');
      await fsyncDir('/d', fs);
      await writeFully(h, bytes('before'), 0);
      held.hold(true);
      const syncing = h.sync();
      await writeFully(h, bytes('+after'), 6);
      held.release();
      await syncing;
      fs.crash(new Prng(seed));
      const after = await readOrMissing(fs, '/d/f');
      expect(after.startsWith('before')).toBe(true);
      seen.add(after === 'before' ? 'lost' : 'kept-or-torn');
    }
    expect(seen.size).toBe(2);
  });

  it('loses an fsync still in flight at the crash', async () => {
    const held = heldDelay('sync');
    const fs = new SimFileSystem({ delay: held.delay });
    const h = await fs.open('/f', 'w');
    await fsyncDir('/', fs);
    await writeFully(h, bytes('data'), 0);
    held.hold(true);
    const syncing = h.sync();
    // Keeping no unsynced change is one of the crash's choices: find a seed that makes it.
    let seed = 0;
    while (new Prng(seed).int(0, 1) !== 0) seed++;
    fs.crash(new Prng(seed));
    held.release();
    expect(await outcome(syncing)).toBe('pending');
    expect(await readOrMissing(fs, '/f')).toBe('');
  });

  it('fails syncs with EIO while told to, making nothing durable', async () => {
    const fs = new SimFileSystem();
    const h = await fs.open('/f', 'w');
    await writeFully(h, bytes('data'), 0);
    fs.setFailSyncs(true);
    await expect(h.datasync()).rejects.toMatchObject({ code: 'EIO' });
    expect(fs.dump()).toBe('/f 4 bytes, 0 durable, 1 unsynced');
    fs.setFailSyncs(false);
    await h.datasync();
    expect(fs.dump()).toBe('/f 4 bytes, 4 durable, 0 unsynced');
  });
});

describe('SimFileSystem: a full disk', () => {
  it('refuses with ENOSPC a write past the capacity and changes nothing', async () => {
    const fs = new SimFileSystem({ capacityBytes: 10 });
    await fs.writeFile('/a', bytes('123456'));
    await expect(fs.writeFile('/b', bytes('12345'))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(fs.fileNames()).toEqual(['/a']);
    // Replacing a file counts only its growth.
    await fs.writeFile('/a', bytes('1234567890'));
    const h = await fs.open('/a', 'r+');
    await h.write(bytes('abc'), 0, 3, 0);
    await expect(h.write(bytes('x'), 0, 1, 10)).rejects.toMatchObject({ code: 'ENOSPC', message: /'\/a'/ });
    await expect(fs.truncate('/a', 11)).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(text(await fs.readFile('/a'))).toBe('abc4567890');
    expect(fs.usedBytes()).toBe(10);
    fs.capacityBytes = undefined;
    await h.write(bytes('x'), 0, 1, 10);
    expect(fs.usedBytes()).toBe(11);
  });
});

describe('RaftDiskStorage on a SimFileSystem', () => {
  const DIR = '/n1';
  const entry = (index: number, term: number): Entry => ({
    index,
    term,
    type: 'normal',
    data: new Uint8Array(24).fill(index & 0xff),
  });
  const range = (from: number, to: number, term: number): Entry[] =>
    Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
  const hs = (term: number, commit: number): HardState => ({ term, vote: 'kv-0', commit });
  // The process-wide lock would stay held by a "crashed" member in this process; a trivial one stands in.
  const trivialLock = (dir: string): Promise<DirLock> =>
    Promise.resolve({ file: `${dir}/LOCK`, pid: 1, release: () => Promise.resolve() });
  const options = (fs: SimFileSystem): RaftDiskStorageOptions => ({
    identity: { clusterId: 'c1', shardId: 's0', memberName: 'kv-0' },
    randomBytes: (n) => new Uint8Array(n).fill(7),
    segmentBytes: 1024,
    now: () => 0,
    fs,
    acquireLock: trivialLock,
  });

  function expectContiguousFromOne(entries: readonly Entry[]): void {
    entries.forEach((e, i) => expect(e).toEqual(entry(i + 1, 1)));
  }

  it('recovers every synced append after power loss, and cuts a torn tail for some seeds', async () => {
    let torn = 0;
    let lostUnsynced = 0;
    let keptUnsynced = 0;
    for (let seed = 0; seed < 80; seed++) {
      const fs = new SimFileSystem();
      const rng = new Prng(seed);
      const storage = await RaftDiskStorage.open(DIR, options(fs));
      expect(storage.takeRecoveredState()).toEqual({ entries: [] });
      let next = 1;
      let durableIndex = 0;
      for (let i = 0; i < 12; i++) {
        const n = rng.int(1, 3);
        const sync = rng.chance(0.5);
        await storage.append(i === 0 ? hs(1, 0) : undefined, range(next, next + n - 1, 1), undefined, {
          sync,
        });
        next += n;
        if (sync) durableIndex = next - 1;
      }
      fs.crash(rng.fork('crash'));

      const reopened = await RaftDiskStorage.open(DIR, options(fs));
      const { entries, hardState } = reopened.takeRecoveredState();
      expectContiguousFromOne(entries);
      expect(entries.length).toBeGreaterThanOrEqual(durableIndex);
      expect(entries.length).toBeLessThanOrEqual(next - 1);
      if (durableIndex > 0) expect(hardState).toEqual(hs(1, 0));
      if (reopened.report.truncatedTail) torn++;
      if (entries.length < next - 1) lostUnsynced++;
      if (entries.length > durableIndex) keptUnsynced++;
      // The recovered log goes on: an append after recovery is durable like any other.
      await reopened.append(undefined, [entry(entries.length + 1, 1)], undefined);
      await reopened.close();
    }
    expect(torn).toBeGreaterThan(0);
    expect(lostUnsynced).toBeGreaterThan(0);
    expect(keptUnsynced).toBeGreaterThan(0);
  });

  // Found by the simulator: a member whose process exited (the machine stayed up) restarted reading its unsynced
  // appends from the page cache and acted on them; a power loss later took them back (its synced commit index 240
  // came back as 239). Reopening must make what it recovered durable before the member promises anything on it.
  it('makes what a dead process left unsynced durable when it reopens, so a later power loss keeps it', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const fs = new SimFileSystem();
      const storage = await RaftDiskStorage.open(DIR, options(fs));
      await storage.append(hs(1, 0), range(1, 3, 1), undefined);
      await storage.append(hs(1, 3), range(4, 60, 1), undefined, { sync: false });
      fs.killProcess();

      const restarted = await RaftDiskStorage.open(DIR, options(fs));
      const recovered = restarted.takeRecoveredState();
      expect(recovered.entries).toHaveLength(60);
      fs.crash(new Prng(seed));

      const afterPowerLoss = await RaftDiskStorage.open(DIR, options(fs));
      const state = afterPowerLoss.takeRecoveredState();
      expect([seed, state.entries.length, state.hardState]).toEqual([seed, 60, hs(1, 3)]);
      await afterPowerLoss.close();
    }
  });

  it('keeps a saved snapshot and a compaction across power loss', async () => {
    for (let seed = 0; seed < 40; seed++) {
      const fs = new SimFileSystem();
      const storage = await RaftDiskStorage.open(DIR, options(fs));
      for (let i = 1; i <= 30; i += 5) await storage.append(hs(1, i - 1), range(i, i + 4, 1), undefined);
      const snapshot: Snapshot = {
        metadata: { index: 20, term: 1, confState: { voters: ['kv-0'], learners: [] } },
        data: bytes('state@20'),
      };
      await storage.saveSnapshot(snapshot);
      expect(await storage.compact(20)).toBeGreaterThan(0);
      await storage.append(undefined, range(31, 33, 1), undefined, { sync: false });
      fs.crash(new Prng(seed));

      const reopened = await RaftDiskStorage.open(DIR, options(fs));
      const state = reopened.takeRecoveredState();
      expect(state.snapshot).toEqual(snapshot);
      expect(state.entries.length).toBeGreaterThanOrEqual(10);
      state.entries.forEach((e, i) => expect(e).toEqual(entry(21 + i, 1)));
      await reopened.close();
    }
  });

  it('leaves an append whose fdatasync was in flight at the crash pending forever, and recovers', async () => {
    const held = heldDelay('sync');
    const fs = new SimFileSystem({ delay: held.delay });
    const storage = await RaftDiskStorage.open(DIR, options(fs));
    await storage.append(hs(1, 0), range(1, 3, 1), undefined);
    held.hold(true);
    const inFlight = storage.append(undefined, range(4, 5, 1), undefined);
    expect(await outcome(inFlight)).toBe('pending');
    fs.crash(new Prng(3));
    held.release();
    held.hold(false);
    expect(await outcome(inFlight)).toBe('pending');

    const reopened = await RaftDiskStorage.open(DIR, options(fs));
    const { entries } = reopened.takeRecoveredState();
    expectContiguousFromOne(entries);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    await reopened.close();
  });

  it('fails an append with ENOSPC on a full disk, then refuses every later call', async () => {
    const fs = new SimFileSystem();
    const storage = await RaftDiskStorage.open(DIR, options(fs));
    await storage.append(hs(1, 0), range(1, 3, 1), undefined);
    const used = fs.usedBytes();
    fs.capacityBytes = used + 40;
    await expect(storage.append(undefined, range(4, 6, 1), undefined)).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    expect(fs.usedBytes()).toBe(used);
    await expect(storage.append(undefined, [entry(4, 1)], undefined)).rejects.toBeInstanceOf(
      StorageFailedError,
    );
    await storage.close();

    fs.capacityBytes = undefined;
    const reopened = await RaftDiskStorage.open(DIR, options(fs));
    expect(reopened.takeRecoveredState().entries).toEqual(range(1, 3, 1));
    await reopened.close();
  });
});
