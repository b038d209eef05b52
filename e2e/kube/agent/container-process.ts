// One container = one process tree, started as `ip netns exec <netns> unshare --uts /bin/sh <launcher>`: the
// pod's network namespace, a private mount namespace (from ip netns exec) where the launcher bind-mounts volumes,
// and its own hostname. The process is a session leader, so signals go to its whole group.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

export interface ProcessExit {
  exitCode: number;
  signal: string | undefined;
  finishedAtMs: number;
}

export interface StartSpec {
  netns: string;
  launcherPath: string;
  env: Record<string, string>;
  logPath: string;
}

export class ContainerProcess {
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;

  private constructor(
    readonly pid: number,
    readonly startedAtMs: number,
    exited: Promise<ProcessExit>,
  ) {
    this.exited = exited.then((e) => (this.exit = e));
  }

  static start(s: StartSpec, nowMs: number): ContainerProcess {
    mkdirSync(path.dirname(s.logPath), { recursive: true });
    const fd = openSync(s.logPath, 'a');
    try {
      // unshare --uts gives the pod its own hostname, which the launcher sets before it execs the command.
      const child = spawn('ip', ['netns', 'exec', s.netns, 'unshare', '--uts', '/bin/sh', s.launcherPath], {
        detached: true,
        env: s.env,
        stdio: ['ignore', fd, fd],
      });
      const pid = child.pid;
      if (pid === undefined) throw new Error(`could not start container process (ip netns exec ${s.netns})`);
      const exited = new Promise<ProcessExit>((resolve) => {
        child.on('exit', (code, signal) =>
          resolve({
            exitCode: code ?? 128 + signalNumber(signal),
            signal: signal ?? undefined,
            finishedAtMs: Date.now(),
          }),
        );
        child.on('error', () => resolve({ exitCode: 128, signal: undefined, finishedAtMs: Date.now() }));
      });
      child.unref();
      return new ContainerProcess(pid, nowMs, exited);
    } finally {
      closeSync(fd);
    }
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  get exitInfo(): ProcessExit | undefined {
    return this.exit;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.exit !== undefined) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      try {
        process.kill(this.pid, sig);
      } catch {
        // Gone already.
      }
    }
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process is gone. */
  async stop(graceMs: number): Promise<ProcessExit> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), Math.max(0, graceMs));
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGABRT: 6,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};
export function signalNumber(sig: string | null): number {
  return sig === null ? 0 : (SIGNALS[sig] ?? 0);
}
