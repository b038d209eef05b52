import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isRunning,
  logTail,
  rssKib,
  runningPid,
  startDaemon,
  stopDaemon,
  type DaemonSpec,
} from './processes.js';

describe('daemons (real processes)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'proc-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const spec = (script: string, marker: string): DaemonSpec => ({
    name: 'test',
    // The marker in argv makes the process identifiable the way a binary path identifies a real daemon.
    argv: [process.execPath, '-e', script, marker],
    pidFile: join(dir, 'run', 'test.pid'),
    logFile: join(dir, 'logs', 'test.log'),
    match: marker,
  });

  /** Node takes a while to boot on a loaded machine: wait (bounded) until the daemon says it is ready. */
  async function untilLogged(file: string, line: string): Promise<void> {
    for (let i = 0; i < 200 && logTail(file, 5) !== line; i++) await sleep(50);
    expect(logTail(file, 5)).toBe(line);
  }

  it('starts detached with a pid file and a log, and stops on SIGTERM', async () => {
    const s = spec('console.log("started"); setInterval(() => {}, 1000)', `marker-${process.pid}-a`);
    const pid = await startDaemon(s);
    expect(readFileSync(s.pidFile, 'utf8').trim()).toBe(String(pid));
    expect(runningPid(s)).toBe(pid);
    expect(rssKib([pid])).toBeGreaterThan(0);
    await untilLogged(s.logFile, 'started');
    const r = await stopDaemon(s, 5_000);
    expect(r).toEqual({ pid, killed: false });
    expect(isRunning(pid, s.match)).toBe(false);
    expect(existsSync(s.pidFile)).toBe(false);
  });

  it('kills a daemon that ignores SIGTERM once the grace period is over', async () => {
    const s = spec(
      'process.on("SIGTERM", () => {}); console.log("trapped"); setInterval(() => {}, 1000)',
      `marker-${process.pid}-b`,
    );
    const pid = await startDaemon(s);
    await untilLogged(s.logFile, 'trapped');
    const t0 = Date.now();
    const r = await stopDaemon(s, 500);
    expect(r).toEqual({ pid, killed: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
    expect(isRunning(pid, s.match)).toBe(false);
  });

  it('reports a binary that does not exist as a start failure', async () => {
    await expect(
      startDaemon({ ...spec('', 'nope'), argv: [join(dir, 'nope')], match: 'nope' }),
    ).rejects.toThrow(/could not start .*ENOENT/);
  });

  it('never trusts a pid file whose process is something else', async () => {
    const s = spec('setInterval(() => {}, 1000)', `marker-${process.pid}-c`);
    await startDaemon({ ...s, pidFile: join(dir, 'x.pid') });
    // Our own pid is alive but is not the daemon: it must not be reported or signalled.
    mkdirSync(join(dir, 'run'), { recursive: true });
    writeFileSync(s.pidFile, `${process.pid}\n`);
    expect(runningPid(s)).toBeUndefined();
    expect(await stopDaemon(s, 100)).toBeUndefined();
    await stopDaemon({ ...s, pidFile: join(dir, 'x.pid') }, 2_000);
  });
});
