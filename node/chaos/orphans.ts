// LocalCluster.start throws when no leader appears in time and then holds no handle to the members it spawned.
// They are found by their data directory (unique to this run) in /proc and killed by pid, so a slow start under
// load does not leave processes running; nothing outside this run's directory is touched.
import { readdirSync, readFileSync } from 'node:fs';

export function killMembersUnder(dataDir: string): number[] {
  const killed: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    if (!args.some((a) => a.startsWith(`--data-dir=${dataDir}/`))) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      /* already gone */
    }
  }
  return killed;
}
