// Background daemons with pid files and log files: start detached (they outlive `kube:up`), stop with SIGTERM and a
// bounded wait, then SIGKILL. A pid file is trusted only while /proc/<pid>/cmdline still names the daemon, so a
// recycled pid after a crash or reboot is never signalled.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonSpec {
  readonly name: string;
  readonly argv: readonly string[];
  readonly pidFile: string;
  readonly logFile: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** A substring of the daemon's command line that identifies it (e.g. its binary path). */
  readonly match: string;
}

/**
 * Starts the daemon in its own session, stdout+stderr appended to its log, and records its pid. Resolves once the
 * program has been exec'd (so /proc/<pid>/cmdline already names it); rejects if it could not be started at all.
 */
export async function startDaemon(spec: DaemonSpec): Promise<number> {
  const [file, ...args] = spec.argv;
  if (file === undefined) throw new Error(`${spec.name}: empty argv`);
  if (!spec.argv.join(' ').includes(spec.match))
    throw new Error(`${spec.name}: argv does not contain "${spec.match}"`);
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new Error(`${spec.name}: could not start ${file}: ${err.message}`)),
      );
    });
    if (child.pid === undefined) throw new Error(`${spec.name}: started without a pid`);
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** The process's command line, NULs as spaces; undefined once it is gone. */
export function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** True when the process exists, is not a zombie, and its command line contains `match`. */
export function isRunning(pid: number, match: string): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Field 3, after the parenthesised command name (which may itself contain spaces or parens).
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  if (state === 'Z' || state === 'X') return false;
  return (cmdline(pid) ?? '').includes(match);
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** The daemon's pid when its pid file names a live process that still matches; otherwise undefined. */
export function runningPid(spec: Pick<DaemonSpec, 'pidFile' | 'match'>): number | undefined {
  const pid = readPid(spec.pidFile);
  return pid !== undefined && isRunning(pid, spec.match) ? pid : undefined;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export interface StopResult {
  readonly pid: number;
  readonly killed: boolean;
}

/**
 * SIGTERM, wait up to `graceMs` for exit, then SIGKILL the process and its process group (children it left).
 * Resolves once the process is gone; throws if even SIGKILL did not end it within a second.
 */
export async function stopPid(pid: number, match: string, graceMs: number): Promise<StopResult> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid, match)) return { pid, killed: false };
    await sleep(100);
  }
  signal(pid, 'SIGKILL');
  signal(-pid, 'SIGKILL');
  for (let i = 0; i < 20; i++) {
    if (!isRunning(pid, match)) return { pid, killed: true };
    await sleep(50);
  }
  throw new Error(`pid ${pid} (${match}) survived SIGKILL`);
}

export async function stopDaemon(
  spec: Pick<DaemonSpec, 'name' | 'pidFile' | 'match'>,
  graceMs: number,
): Promise<StopResult | undefined> {
  const pid = runningPid(spec);
  const result = pid === undefined ? undefined : await stopPid(pid, spec.match, graceMs);
  rmSync(spec.pidFile, { force: true });
  return result;
}

/** Pids of live processes whose executable lies under `dir`: finds daemons whose pid files were lost in a crash. */
export function pidsWithExeUnder(dir: string): number[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${entry}/exe`);
    } catch {
      continue;
    }
    if (exe.startsWith(prefix)) out.push(Number(entry));
  }
  return out;
}

/** Pids of live processes whose command line contains every one of `parts` (never this process itself). */
export function pidsWithCmdline(parts: readonly string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmd = cmdline(Number(entry));
    if (cmd !== undefined && cmd !== '' && parts.every((p) => cmd.includes(p))) out.push(Number(entry));
  }
  return out;
}

/** Sum of VmRSS over the given pids, in KiB (processes that are gone count 0). */
export function rssKib(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += m ? Number(m[1]) : 0;
    } catch {
      // exited between listing and reading
    }
  }
  return total;
}

/** The last `lines` lines of a log, for error messages when a daemon does not come up. */
export function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
