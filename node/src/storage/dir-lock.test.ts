import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireDirLock, LOCK_FILE, processIsAlive } from './dir-lock.js';
import { DirLockedError } from './errors.js';

const fixture = fileURLToPath(new URL('./lock-holder.fixture.ts', import.meta.url));
/** The repository root, where `--import tsx` resolves from node_modules whatever directory jest started in. */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lock-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts a process holding the lock; resolves once it reports it holds it. Bounded by jest's test timeout. */
function startHolder(): Promise<{ child: ChildProcess; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /locked (\d+)/.exec(out);
      if (m) resolve({ child, pid: Number(m[1]) });
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('acquireDirLock', () => {
  it('writes our pid and removes the file on release', async () => {
    const lock = await acquireDirLock(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
    await lock.release();
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a second open in the same process', async () => {
    const lock = await acquireDirLock(dir);
    await expect(acquireDirLock(dir)).rejects.toThrow(/already open in this process/);
    await lock.release();
    const again = await acquireDirLock(dir);
    await again.release();
  });

  it('takes over a lock left by an earlier process that had our pid', async () => {
    await writeFile(join(dir, LOCK_FILE), `${process.pid}\n`);
    const lock = await acquireDirLock(dir);
    await lock.release();
  });

  it('refuses a lock file that does not hold a pid', async () => {
    await writeFile(join(dir, LOCK_FILE), 'garbage');
    await expect(acquireDirLock(dir)).rejects.toThrow(/holds "garbage", not a pid/);
  });

  it('treats EPERM as alive and ESRCH as dead', () => {
    expect(processIsAlive(process.pid)).toBe(true);
    // pid 1 exists on Linux; whether we may signal it or not, it is alive.
    expect(processIsAlive(1)).toBe(true);
    // Above the kernel's pid_max (at most 2^22), so no process can have it.
    expect(processIsAlive(2 ** 22 + 1)).toBe(false);
  });

  it('is exclusive across processes, naming the owner, and takes over after the owner dies', async () => {
    const holder = await startHolder();
    try {
      const err = await acquireDirLock(dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DirLockedError);
      expect(err).toMatchObject({ ownerPid: holder.pid });
      expect((err as Error).message).toContain(`held by pid ${holder.pid}`);
    } finally {
      holder.child.kill('SIGKILL');
      await exited(holder.child);
    }
    // The holder died without releasing: its lock is stale.
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(holder.pid));
    const lock = await acquireDirLock(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
  }, 30_000);

  it('can be taken once another process releases it', async () => {
    const holder = await startHolder();
    holder.child.stdin!.end();
    await exited(holder.child);
    expect(holder.child.exitCode).toBe(0);
    expect(await readdir(dir)).toEqual([]);
    const lock = await acquireDirLock(dir);
    await lock.release();
  }, 30_000);
});
