// Network partitions between real processes on loopback, with iptables. Every member listens for Raft traffic on
// its own peer port, so dropping TCP to and from that port inside one dedicated chain isolates the member from its
// peers' messages: nothing reaches it, and its replies and acknowledgements on connections peers opened are lost.
// Connections the isolated member opens itself still deliver (their source port is ephemeral and cannot be told
// apart on loopback), so this is an asymmetric cut: the member can talk but not hear. Client ports are untouched.
// All rules live in the RAFTSTORE-CHAOS chain, which is flushed at start (a crashed run must not poison the next)
// and removed on exit.
import { execFileSync } from 'node:child_process';

const CHAIN = 'RAFTSTORE-CHAOS';

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
    if (!iptables(['-N', CHAIN], true)) iptables(['-F', CHAIN]);
    if (!iptables(['-C', 'INPUT', '-i', 'lo', '-j', CHAIN], true))
      iptables(['-I', 'INPUT', '-i', 'lo', '-j', CHAIN]);
    return new Partitioner();
  }

  /** Removes every rule and the chain; safe to call when nothing was set up. */
  static tearDown(): void {
    while (iptables(['-D', 'INPUT', '-i', 'lo', '-j', CHAIN], true)) {
      /* a crashed run may have hooked it more than once */
    }
    iptables(['-F', CHAIN], true);
    iptables(['-X', CHAIN], true);
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
