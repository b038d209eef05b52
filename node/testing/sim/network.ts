// The simulated network between members: every message gets a delivery time drawn from the seed, and may be
// dropped, duplicated or delayed far enough to overtake later messages (reordering). Partitions block directed
// links, so both symmetric splits and one-way (asymmetric) failures are expressible. A member can also be isolated
// on its own (every link to and from it cut), independently of the partition in force: the two heal separately.
import type { Message, NodeId } from '../../src/raft/index.js';
import { EventQueue } from './event-queue.js';
import type { Prng } from '../../src/random/prng.js';

export interface NetworkFaults {
  /** Probability a message is lost. */
  readonly dropRate: number;
  /** Probability a message is delivered twice (the copy gets its own delay). */
  readonly duplicateRate: number;
  /** Ordinary one-way latency is uniform in [1, delayMaxMs]. */
  readonly delayMaxMs: number;
  /** Probability of a long delay in [delayMaxMs, longDelayMaxMs]: such messages arrive after newer ones. */
  readonly longDelayRate: number;
  readonly longDelayMaxMs: number;
}

/** What happened to a message handed to the network; the host learns only "sent", the trace shows the truth. */
export type SendOutcome = 'queued' | 'dropped' | 'blocked';

/**
 * Bound on messages in flight on one directed link; past it new messages are dropped, as a full socket buffer
 * would. It also caps the work a retransmission storm can make the simulation do.
 */
export const MAX_IN_FLIGHT_PER_LINK = 512;

export class Network {
  private readonly inFlight = new EventQueue<Message>();
  private readonly perLink = new Map<string, number>();
  /** Directed links that are cut, as "from>to". */
  private readonly blocked = new Set<string>();
  /** Members cut off from everyone, until rejoin(). */
  private readonly isolated = new Set<NodeId>();

  constructor(
    private readonly rng: Prng,
    public faults: NetworkFaults,
  ) {}

  send(m: Message, now: number): SendOutcome {
    const link = linkKey(m.from, m.to);
    if (this.cut(m.from, m.to, link)) return 'blocked';
    const queued = this.perLink.get(link) ?? 0;
    if (this.rng.chance(this.faults.dropRate) || queued >= MAX_IN_FLIGHT_PER_LINK) return 'dropped';
    this.inFlight.push(now + this.delay(), m);
    let copies = 1;
    if (this.rng.chance(this.faults.duplicateRate)) {
      this.inFlight.push(now + this.delay(), m);
      copies++;
    }
    this.perLink.set(link, queued + copies);
    return 'queued';
  }

  private delay(): number {
    const f = this.faults;
    if (this.rng.chance(f.longDelayRate))
      return this.rng.int(f.delayMaxMs, Math.max(f.delayMaxMs, f.longDelayMaxMs));
    return this.rng.int(1, Math.max(1, f.delayMaxMs));
  }

  /**
   * The next message due at or before `now`. A partition cuts messages already on the wire too: they are lost when
   * they would arrive over a cut link (`onBlocked` sees them, for the trace).
   */
  deliverDue(now: number, onBlocked: (m: Message) => void): Message | undefined {
    for (;;) {
      const m = this.inFlight.popDue(now);
      if (m === undefined) return undefined;
      const link = linkKey(m.from, m.to);
      this.perLink.set(link, this.perLink.get(link)! - 1);
      if (!this.cut(m.from, m.to, link)) return m;
      onBlocked(m);
    }
  }

  nextDeliveryTime(): number {
    return this.inFlight.peekTime();
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  private cut(from: NodeId, to: NodeId, link: string): boolean {
    if (this.blocked.has(link)) return true;
    return this.isolated.size > 0 && (this.isolated.has(from) || this.isolated.has(to));
  }

  /** Cuts every link to and from `id` until rejoin(id); heal() does not end it. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  rejoin(id: NodeId): void {
    this.isolated.delete(id);
  }

  block(from: NodeId, to: NodeId): void {
    this.blocked.add(linkKey(from, to));
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.cut(from, to, linkKey(from, to));
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  /** Ends the partition (the cut links); isolated members stay isolated. */
  heal(): void {
    this.blocked.clear();
  }

  /** Ends every fault: the partition and all isolations. */
  healAll(): void {
    this.blocked.clear();
    this.isolated.clear();
  }

  blockedLinks(): string[] {
    return [...this.blocked].sort();
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}
