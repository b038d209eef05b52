// One kube:up or kube:down per state dir at a time: both take an exclusive flock(2) on `<state>/kube.lock` for
// their whole run, so two concurrent runs never start daemons over each other or tear down one another's cluster.
// Node has no flock API; `flock(1)` takes the lock on a descriptor this process passes it. A flock belongs to the
// open file description, not the process, so the lock outlives the flock child and lasts until this process
// closes the descriptor or exits (even by SIGKILL: the kernel releases it, no stale lock file to clean up).
// libuv opens files close-on-exec, so the daemons kube:up starts do not inherit the lock.
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** flock's exit status when it timed out (`--conflict-exit-code`), told apart from its other failures. */
const CONFLICT_EXIT = 75;

export interface StateLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the exclusive lock on `file`, waiting at most `waitSeconds` (onBusy hears who holds it before the wait).
 * The holder's line (`pid`, `what`, start time) is written into the file so that a waiting run can say who holds it.
 */
export function acquireStateLock(
  file: string,
  what: string,
  waitSeconds: number,
  onBusy: (holder: string) => void = () => {},
): StateLock {
  if (!(Number.isInteger(waitSeconds) && waitSeconds >= 0)) throw new Error(`bad lock wait ${waitSeconds}`);
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'a+');
  const holder = (): string => readFileSync(file, 'utf8').trim() || 'a process that wrote no holder line';
  let status = flock(fd, 0, file);
  if (status === CONFLICT_EXIT && waitSeconds > 0) {
    onBusy(holder());
    status = flock(fd, waitSeconds, file);
  }
  if (status !== 0) {
    closeSync(fd);
    throw new Error(
      `${file} is held by another kube:up/kube:down (${holder()}); gave up after ${waitSeconds} s. ` +
        'Wait for it to finish, or set RAFTSTORE_KUBE_LOCK_WAIT_SECONDS to wait longer',
    );
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `pid ${process.pid} ${what} since ${new Date().toISOString()}\n`, 0);
  let held = true;
  return {
    file,
    release: () => {
      if (!held) return;
      held = false;
      closeSync(fd);
    },
  };
}

/** flock(1) on our descriptor: 0 when locked, CONFLICT_EXIT on timeout; throws on any other failure. */
function flock(fd: number, waitSeconds: number, file: string): number {
  const args = [
    '--exclusive',
    '--wait',
    String(waitSeconds),
    '--conflict-exit-code',
    String(CONFLICT_EXIT),
    '3',
  ];
  const r = spawnSync('flock', args, {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    encoding: 'utf8',
    timeout: (waitSeconds + 10) * 1000,
  });
  if (r.status === 0 || r.status === CONFLICT_EXIT) return r.status;
  closeSync(fd);
  throw new Error(`flock ${file}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`} ${r.stderr}`.trim());
}

/** The bound on waiting for the lock: RAFTSTORE_KUBE_LOCK_WAIT_SECONDS, else 120 s (a warm kube:up takes ~30 s). */
export function lockWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['RAFTSTORE_KUBE_LOCK_WAIT_SECONDS'];
  if (raw === undefined || raw === '') return 120;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`RAFTSTORE_KUBE_LOCK_WAIT_SECONDS must be a whole number of seconds, got "${raw}"`);
  return n;
}
