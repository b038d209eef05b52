// CPU time of other processes from /proc/<pid>/stat (utime + stime), for server CPU per committed write.
import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux ABI that Node supports.

/** Total CPU of pid in microseconds, or undefined once the process is gone. */
export function processCpu_us(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return ((utime + stime) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

/** Sum over pids; a pid that disappeared mid-measurement makes the sum meaningless, so it fails loudly. */
export function summedCpu_us(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const v = processCpu_us(pid);
    if (v === undefined) throw new Error(`process ${pid} exited during a CPU measurement`);
    sum += v;
  }
  return sum;
}

export interface MachineCpu {
  /** CPU time spent running anything (user, nice, system, irq, softirq), summed over cores. */
  readonly busy_us: number;
  /** Time the hypervisor gave this machine's CPUs to someone else while they had work. */
  readonly steal_us: number;
}

/** The machine-wide line of /proc/stat ("cpu user nice system idle iowait irq softirq steal ..."). */
export function parseProcStat(text: string): MachineCpu {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  const f = line?.trim().split(/\s+/).slice(1).map(Number);
  if (!f || f.length < 8 || f.some((v) => !Number.isFinite(v))) throw new Error('cannot parse /proc/stat');
  const [user, nice, system, , , irq, softirq, steal] = f as [number, ...number[]];
  const us = (ticks: number): number => (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  return { busy_us: us(user + nice! + system! + irq! + softirq!), steal_us: us(steal!) };
}

/** The machine's CPU counters now: a difference over a run says how busy the whole machine was. */
export function machineCpu(): MachineCpu {
  return parseProcStat(readFileSync('/proc/stat', 'utf8'));
}
