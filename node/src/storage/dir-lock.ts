// An exclusive lock on a data directory, so two node processes never write the same WAL (which would interleave
// appends and destroy the log). The lock is a file `LOCK` holding the owner's pid.
// - It is created with link(2) from a fully written temp file, so it appears atomically and always holds a pid.
// - A lock whose pid is not alive (process.kill(pid, 0) fails with ESRCH) is stale and taken over. So is one holding
//   our own pid when this process does not hold it: in a container the restarted node often gets the same pid as
//   the one that crashed.
// - Takeover renames the stale file away and checks it still held the dead pid, so two processes taking over at
//   once cannot both win.
// Liveness is per host: the lock assumes the directory is not shared between machines (a Kubernetes volume with
// ReadWriteOnce access), which is how the operator mounts it.

import { join } from 'node:path';
import { DirLockedError } from './errors.js';
import { nodeFileSystem, type StorageFileSystem } from './file-system.js';

export const LOCK_FILE = 'LOCK';

/** Bound on lock attempts when the lock keeps changing hands under us. */
const MAX_ATTEMPTS = 5;

export interface DirLockOptions {
  /** Whether a process exists; defaults to process.kill(pid, 0) (EPERM counts as alive: it exists, not ours). */
  readonly isAlive?: (pid: number) => boolean;
  /** Where the directory lives: node's file system by default. */
  readonly fs?: StorageFileSystem;
}

export interface DirLock {
  readonly file: string;
  readonly pid: number;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): Promise<void>;
}

/** Directories (real paths) this process holds locks on. */
const heldByThisProcess = new Set<string>();

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The pid in a lock file; undefined if the file vanished; throws DirLockedError if its content is not a pid. */
async function readOwner(fs: StorageFileSystem, path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = new TextDecoder().decode(await fs.readFile(path));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new DirLockedError(
      path,
      -1,
      `the lock file holds ${JSON.stringify(text.slice(0, 40))}, not a pid; remove it only if no node uses this directory`,
    );
  }
  return pid;
}

/** Takes the lock on `dir` (which must exist) or throws DirLockedError naming the live owner's pid. */
export async function acquireDirLock(dir: string, options: DirLockOptions = {}): Promise<DirLock> {
  const isAlive = options.isAlive ?? processIsAlive;
  const fs = options.fs ?? nodeFileSystem;
  const pid = process.pid;
  const key = await fs.realpath(dir);
  const file = join(dir, LOCK_FILE);
  if (heldByThisProcess.has(key))
    throw new DirLockedError(file, pid, 'the directory is already open in this process');

  const tmp = join(dir, `${LOCK_FILE}.${pid}.tmp`);
  await fs.writeFile(tmp, new TextEncoder().encode(`${pid}\n`));
  try {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        await fs.link(tmp, file);
        heldByThisProcess.add(key);
        return makeLock(fs, key, file, pid);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw err;
      }
      const owner = await readOwner(fs, file);
      if (owner === undefined) continue; // released between our link and read: try again
      // Our own pid in a lock we do not hold was left by an earlier process that had the same pid.
      if (owner !== pid && isAlive(owner)) {
        throw new DirLockedError(file, owner, 'another live process is using this data directory');
      }
      const moved = join(dir, `${LOCK_FILE}.stale.${pid}`);
      try {
        await fs.rename(file, moved);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      const movedOwner = await readOwner(fs, moved);
      if (movedOwner !== owner) {
        // Someone took over between our read and our rename: we moved their live lock, so put it back.
        await fs.link(moved, file).catch((err: unknown) => {
          if (errnoCode(err) !== 'EEXIST') throw err;
        });
      }
      await fs.unlink(moved);
    }
    throw new DirLockedError(
      file,
      -1,
      `gave up after ${MAX_ATTEMPTS} attempts: the lock keeps changing hands`,
    );
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
}

function makeLock(fs: StorageFileSystem, key: string, file: string, pid: number): DirLock {
  let released = false;
  return {
    file,
    pid,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      heldByThisProcess.delete(key);
      // Only remove the file if it still names us; never delete a lock someone else took over.
      const owner = await readOwner(fs, file).catch(() => undefined);
      if (owner === pid) await fs.unlink(file).catch(() => undefined);
    },
  };
}
