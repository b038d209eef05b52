import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireStateLock, lockWaitSeconds } from './lock.js';

describe('acquireStateLock', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rsk-lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lets one holder in, makes the next give up after the bound naming the holder, and frees on release', () => {
    const file = join(dir, 'state', 'kube.lock');
    const first = acquireStateLock(file, 'kube:up', 0);
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^pid ${process.pid} kube:up since \\d{4}-`));
    const t0 = Date.now();
    const busy: string[] = [];
    expect(() => acquireStateLock(file, 'kube:down', 1, (h) => busy.push(h))).toThrow(
      /is held by another kube:up\/kube:down \(pid \d+ kube:up since .*\); gave up after 1 s/,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(busy).toEqual([expect.stringMatching(/^pid \d+ kube:up since /) as unknown]);
    first.release();
    first.release(); // idempotent
    const second = acquireStateLock(file, 'kube:down', 0);
    expect(readFileSync(file, 'utf8')).toContain('kube:down');
    second.release();
  });

  it('is released by the kernel when the holder dies, even by SIGKILL', async () => {
    const file = join(dir, 'kube.lock');
    // Another process holding the lock: flock(1) without forking, so the sleep is the one holder.
    const holder = spawn('flock', ['--exclusive', '--no-fork', file, 'sleep', '30'], { stdio: 'ignore' });
    const exited = new Promise((r) => holder.once('exit', r));
    try {
      const deadline = Date.now() + 5000;
      while (!readFileSync('/proc/locks', 'utf8').includes(` ${holder.pid} `) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(() => acquireStateLock(file, 'kube:up', 0)).toThrow(/gave up after 0 s/);
    } finally {
      holder.kill('SIGKILL');
      await exited;
    }
    acquireStateLock(file, 'kube:up', 0).release();
  });
});

describe('lockWaitSeconds', () => {
  it('defaults to 120 s and reads RAFTSTORE_KUBE_LOCK_WAIT_SECONDS', () => {
    expect(lockWaitSeconds({})).toBe(120);
    expect(lockWaitSeconds({ RAFTSTORE_KUBE_LOCK_WAIT_SECONDS: '5' })).toBe(5);
    expect(() => lockWaitSeconds({ RAFTSTORE_KUBE_LOCK_WAIT_SECONDS: 'soon' })).toThrow(/whole number/);
  });
});
