// Network partitions between real processes on loopback, with iptables. Every member listens for Raft traffic on
// its own peer port, so dropping TCP to and from that port inside one dedicated chain isolates the member from its
// peers' messages: nothing reaches it, and its replies and acknowledgements on connections peers opened are lost.
// Connections the isolated member opens itself still deliver (their source port is ephemeral and cannot be told
// apart on loopback), so this is an asymmetric cut: the member can talk but not hear. Client ports are untouched.
// All rules live in one chain per harness process (RSCHAOS-<pid>), removed on exit; chains left by a harness that
// died are removed by the next setUp (a crashed run must not poison the next), while concurrent harnesses keep theirs.
import { execFileSync } from 'node:child_process';

const PREFIX = 'RSCHAOS-';
const CHAIN = `${PREFIX}${process.pid}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Chains of harness processes that no longer exist. */
function staleChains(): string[] {
  const listing = execFileSync('iptables', ['-w', '5', '-S'], { encoding: 'utf8', timeout: 10_000 });
  const chains = new Set<string>();
  for (const line of listing.split('\n')) {
    const match = /^-N (RSCHAOS-(\d+))$/.exec(line.trim());
    if (match && !alive(Number(match[2]))) chains.add(match[1]!);
  }
  return [...chains];
}

function iptables(args: readonly string[], allowFailure = false): boolean {
  try {
    execFileSync('iptables', ['-w', '5', ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return true;
  } catch (error) {
    if (allowFailure) return false;
    throw new Error(`iptables ${args.join(' ')} failed: ${(error as Error).message}`);
  }
}

export class Partitioner {
  private readonly isolated = new Set<number>();

  /** Creates (or empties) the chain and hooks it into INPUT once. */
  static setUp(): Partitioner {
    for (const chain of staleChains()) removeChain(chain);
    if (!iptables(['-N', CHAIN], true)) iptables(['-F', CHAIN]);
    if (!iptables(['-C', 'INPUT', '-i', 'lo', '-j', CHAIN], true))
      iptables(['-I', 'INPUT', '-i', 'lo', '-j', CHAIN]);
    return new Partitioner();
  }

  /** Removes every rule and the chain; safe to call when nothing was set up. */
  static tearDown(): void {
    removeChain(CHAIN);
  }

  isolate(peerPort: number): void {
    if (this.isolated.has(peerPort)) return;
    iptables(['-A', CHAIN, '-p', 'tcp', '--dport', String(peerPort), '-j', 'DROP']);
    iptables(['-A', CHAIN, '-p', 'tcp', '--sport', String(peerPort), '-j', 'DROP']);
    this.isolated.add(peerPort);
  }

  heal(peerPort: number): void {
    if (!this.isolated.delete(peerPort)) return;
    iptables(['-D', CHAIN, '-p', 'tcp', '--dport', String(peerPort), '-j', 'DROP'], true);
    iptables(['-D', CHAIN, '-p', 'tcp', '--sport', String(peerPort), '-j', 'DROP'], true);
  }

  healAll(): void {
    for (const port of [...this.isolated]) this.heal(port);
  }
}

function removeChain(chain: string): void {
  // Bounded: a chain is hooked at most a few times even by a crashed run.
  for (let i = 0; i < 10 && iptables(['-D', 'INPUT', '-i', 'lo', '-j', chain], true); i++);
  iptables(['-F', chain], true);
  iptables(['-X', chain], true);
}
