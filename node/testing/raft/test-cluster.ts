// A tiny synchronous cluster for the core's unit tests: persisting is instant, delivery is explicit, and a filter
// decides which messages are dropped. The full fault-injecting simulation lives in node/testing/sim/.
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import { RawNode } from '../../src/raft/raw-node.js';
import type { RaftConfig } from '../../src/raft/config.js';
import type { Entry, Message, NodeId, ReadState } from '../../src/raft/types.js';
import { seededRandom } from '../../src/random/prng.js';

export interface TestMember {
  readonly id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  /** Normal entries with data, in apply order. */
  readonly applied: Entry[];
  readonly readStates: ReadState[];
}

export type DropFilter = (m: Message) => boolean;

export class TestCluster {
  readonly members = new Map<NodeId, TestMember>();
  /** Messages that were produced but not yet delivered, in order. */
  queue: Message[] = [];
  drop: DropFilter = () => false;
  /** Every message that was delivered, for assertions. */
  readonly delivered: Message[] = [];

  constructor(
    ids: readonly NodeId[],
    private readonly options: Partial<Omit<RaftConfig, 'id' | 'storage'>> = {},
  ) {
    ids.forEach((id, i) => this.addMember(id, MemoryStorage.bootstrap(ids), i + 1));
  }

  addMember(id: NodeId, storage: MemoryStorage, seed: number, applied = 0): TestMember {
    const member: TestMember = {
      id,
      storage,
      node: this.newNode(id, storage, seed, applied),
      applied: [],
      readStates: [],
    };
    this.members.set(id, member);
    return member;
  }

  private newNode(id: NodeId, storage: MemoryStorage, seed: number, applied: number): RawNode {
    return new RawNode({
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
      random: seededRandom(seed),
      ...this.options,
      id,
      storage,
      applied,
    });
  }

  get(id: NodeId): TestMember {
    const m = this.members.get(id);
    if (!m) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: NodeId): RawNode {
    return this.get(id).node;
  }

  /** Handles every pending Ready: persist (instant), queue messages, apply, advance. */
  processReadies(): void {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const member of this.members.values()) {
        if (!member.node.hasReady()) continue;
        progressed = true;
        const rd = member.node.ready();
        this.queue.push(...rd.messages, ...rd.messagesAfterPersist);
        for (const e of rd.committedEntries)
          if (e.type === 'normal' && e.data.byteLength > 0) member.applied.push(e);
        member.readStates.push(...rd.readStates);
        member.node.advance(rd);
      }
    }
  }

  /** Delivers queued messages (and whatever they cause) until the network is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.processReadies();
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
    }
    throw new Error('cluster did not stabilize');
  }

  deliver(m: Message): void {
    if (this.drop(m)) return;
    const target = this.members.get(m.to);
    if (!target) return;
    this.delivered.push(m);
    target.node.step(m);
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const m of this.members.values()) m.node.tick();
      this.stabilize();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
  }

  leader(): NodeId | undefined {
    const leaders = [...this.members.values()].filter((m) => m.node.status().role === 'leader');
    const maxTerm = Math.max(...leaders.map((m) => m.node.status().term));
    return leaders.find((m) => m.node.status().term === maxTerm)?.id;
  }

  propose(id: NodeId, text: string): ReturnType<RawNode['propose']> {
    const result = this.node(id).propose(new TextEncoder().encode(text));
    this.stabilize();
    return result;
  }

  appliedTexts(id: NodeId): string[] {
    return this.get(id).applied.map((e) => new TextDecoder().decode(e.data));
  }

  /** Isolates `ids` from everyone else (both directions). */
  partition(...groups: NodeId[][]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, i) => g.forEach((id) => groupOf.set(id, i)));
    this.drop = (m) => (groupOf.get(m.from) ?? -1) !== (groupOf.get(m.to) ?? -1);
  }

  heal(): void {
    this.drop = () => false;
  }

  /** Simulates a crash and restart from what was persisted (here: everything, persistence is instant). */
  restart(id: NodeId, seed = 99): void {
    const old = this.get(id);
    const storage = old.storage;
    old.node = this.newNode(id, storage, seed, storage.snapshot().metadata.index);
    old.applied.length = 0;
  }
}
