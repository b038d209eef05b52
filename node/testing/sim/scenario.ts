// The fault schedule: every scenario step, the seed decides whether to crash a member (possibly in the middle of a
// persist, or right after it casts a vote), pause one, partition the network (symmetrically or one way, or around
// the leader with a minority), change the membership (add a learner under a fresh id, promote it, remove a member)
// or transfer leadership. It also watches elections: a new leader may be cut off (isolated or crashed) within a few
// ms, before its first entries reach a majority — with leaders of old terms coming back that builds the logs of the
// paper's Figure 8. Faults stop at faultsUntilMs; then everything is healed and restarted so the clients can finish.
// Removed members are wiped for good: ids are never reused.
import type { ConfState, NodeId } from '../../src/raft/index.js';
import type { Network } from './network.js';
import type { Prng } from '../../src/random/prng.js';
import type { SeedConfig } from './seed-config.js';
import type { SimNode } from './sim-node.js';

/** What the scenario may do to the cluster. */
export interface ScenarioHost {
  readonly nodes: ReadonlyMap<NodeId, SimNode>;
  readonly network: Network;
  /** Creates and starts a member with a never-used id and an empty disk. */
  addNode(): SimNode;
  /** Power loss: the machine goes down with the member, unsynced writes are lost or torn. */
  crash(node: SimNode, why: string): void;
  /** kill -9: the process dies, the machine's page cache keeps every write. */
  kill(node: SimNode, why: string): void;
  restart(node: SimNode): void;
  retire(node: SimNode, why: string): void;
  /** The up member that leads the highest term, if any. */
  leader(): SimNode | undefined;
  /** The configuration applied by the most advanced up member (the cluster's current membership). */
  clusterConf(): ConfState | undefined;
  trace(text: string): void;
}

/** A member out of the configuration this long (and older than the grace period) is wiped. */
const RETIRE_AFTER_MS = 300;
/** A member added this recently may not be in the configuration yet: its addLearner is still replicating. */
const ADD_GRACE_MS = 2000;
/** A new leader is cut off at most this long after its election (its first appends are still on the wire). */
const CUT_NEW_LEADER_MAX_MS = 30;
/** Bound on scheduled cuts of new leaders. */
const MAX_PENDING_CUTS = 16;
/** Bound on membership changes proposed back to back (the core refuses all but the first). */
const MAX_BURST_CHANGES = 3;

interface PendingCut {
  readonly id: NodeId;
  readonly term: number;
  readonly at: number;
  readonly kind: 'isolate' | 'crash';
}

export class Scenario {
  private readonly downUntil = new Map<NodeId, number>();
  private readonly pausedUntil = new Map<NodeId, number>();
  private partitionUntil = 0;
  /** Members isolated on their own (new leaders cut off), until when. */
  private readonly isolatedUntil = new Map<NodeId, number>();
  private readonly pendingCuts: PendingCut[] = [];
  private readonly outOfConfigSince = new Map<NodeId, number>();
  /** Members whose disk is full, until when. */
  private readonly diskFullUntil = new Map<NodeId, number>();
  crashes = 0;
  partitions = 0;
  membershipChanges = 0;
  transfers = 0;

  constructor(
    private readonly rng: Prng,
    private readonly cfg: SeedConfig,
    private readonly host: ScenarioHost,
  ) {}

  step(now: number): void {
    const faultsOn = now < this.cfg.faultsUntilMs;
    this.recover(now, faultsOn);
    this.retireRemoved(now);
    if (!faultsOn) return;
    const f = this.cfg.faults;
    const rng = this.rng;
    if (rng.chance(f.crash)) this.crashOne(now, false);
    if (rng.chance(f.crashDuringPersist)) this.crashOne(now, true);
    if (rng.chance(f.voteCrash)) this.armVoteTrap();
    if (rng.chance(f.isolateLeader)) this.isolateLeader(now);
    if (rng.chance(f.pause)) this.pauseOne(now);
    if (rng.chance(f.partition)) this.partition(now);
    if (rng.chance(f.membership)) this.changeMembership();
    if (rng.chance(f.transfer)) this.transfer();
    if (rng.chance(f.diskFull)) this.fillDisk(now);
  }

  /** Leaves one up member's disk (almost) no room: its storage must fail cleanly, and recover once room is made. */
  private fillDisk(now: number): void {
    const up = this.live().filter((n) => n.state === 'up' && !this.diskFullUntil.has(n.id));
    if (up.length === 0) return;
    const node = this.rng.pick(up);
    const until = now + this.rng.int(1, this.cfg.faults.diskFullMaxMs);
    const room = this.rng.int(0, 8192);
    node.disk.capacityBytes = node.disk.usedBytes() + room;
    this.diskFullUntil.set(node.id, until);
    this.host.trace(`${node.id} DISK FULL (${room} bytes of room) until ${until}`);
  }

  private recover(now: number, faultsOn: boolean): void {
    for (const [id, until] of this.diskFullUntil) {
      if (faultsOn && now < until) continue;
      this.diskFullUntil.delete(id);
      const node = this.host.nodes.get(id);
      if (node === undefined) continue;
      node.disk.capacityBytes = undefined;
      this.host.trace(`${id} DISK has room again`);
    }
    for (const node of this.host.nodes.values()) {
      if (node.state === 'down') {
        let until = this.downUntil.get(node.id);
        if (until === undefined) {
          // Crashed on its own trap (during a persist, after a vote): pick its downtime now.
          until = now + this.downtime();
          this.downUntil.set(node.id, until);
        }
        if (!faultsOn || now >= until) {
          this.downUntil.delete(node.id);
          this.host.restart(node);
        }
      } else if (node.state === 'paused') {
        if (!faultsOn || now >= (this.pausedUntil.get(node.id) ?? 0)) {
          this.pausedUntil.delete(node.id);
          this.host.trace(`${node.id} RESUME`);
          node.resume();
        }
      } else if (node.state === 'up' && !faultsOn) {
        node.crashOnNextPersist = false;
        node.crashOnNextVote = false;
      }
    }
    if (!faultsOn) this.pendingCuts.length = 0;
    if (this.partitionUntil > 0 && (!faultsOn || now >= this.partitionUntil)) {
      this.partitionUntil = 0;
      this.host.network.heal();
      this.host.trace('HEAL network');
    }
    for (const [id, until] of this.isolatedUntil) {
      if (faultsOn && now < until) continue;
      this.isolatedUntil.delete(id);
      this.host.network.rejoin(id);
      this.host.trace(`${id} REJOIN network`);
    }
  }

  private live(): SimNode[] {
    return [...this.host.nodes.values()].filter((n) => n.state === 'up' || n.state === 'paused');
  }

  private crashOne(now: number, duringPersist: boolean): void {
    const live = this.live().filter((n) => n.state === 'up');
    if (live.length === 0) return;
    const voters = this.host.clusterConf()?.voters.length ?? this.cfg.founders;
    const down = [...this.host.nodes.values()].filter((n) => n.state === 'down').length;
    // Mostly keep a majority up so clients make progress; sometimes take the cluster below quorum.
    if (down >= Math.floor((voters - 1) / 2) && !this.rng.chance(0.1)) return;
    const node = this.rng.pick(live);
    this.crashes++;
    if (duringPersist) {
      node.crashOnNextPersist = true;
      this.host.trace(`${node.id} TRAP: crash during its next persist`);
      return;
    }
    this.downUntil.set(node.id, now + this.downtime());
    // Mostly the process dies and the machine stays up (its page cache, unsynced writes and all, survives).
    if (this.rng.chance(this.cfg.faults.processKill)) this.host.kill(node, 'scheduled');
    else this.host.crash(node, 'scheduled');
  }

  /** How long a crashed member stays down; a quick restart races the messages still on the wire to it. */
  private downtime(): number {
    const f = this.cfg.faults;
    return this.rng.chance(f.quickRestart)
      ? this.rng.int(1, 3 * this.cfg.tickMs)
      : this.rng.int(1, f.downMaxMs);
  }

  /** Arms the vote trap on one up member (one at a time): it crashes after its next vote, before the fsync. */
  private armVoteTrap(): void {
    const up = this.live().filter((n) => n.state === 'up');
    if (up.length === 0 || up.some((n) => n.crashOnNextVote)) return;
    const node = this.rng.pick(up);
    node.crashOnNextVote = true;
    this.host.trace(`${node.id} TRAP: crash after its next vote, before the fsync`);
  }

  /** Cuts the leader off with a minority (maybe alone): it keeps taking writes it cannot commit for a while. */
  private isolateLeader(now: number): void {
    if (this.partitionUntil > 0) return;
    const leader = this.host.leader();
    if (leader === undefined) return;
    const ids = [...this.host.nodes.values()].filter((n) => n.state !== 'gone').map((n) => n.id);
    const others = shuffle(
      this.rng,
      ids.filter((id) => id !== leader.id),
    );
    const companions = this.rng.int(0, Math.max(0, Math.floor((ids.length - 1) / 2) - 1));
    const side = [leader.id, ...others.slice(0, companions)];
    const rest = others.slice(companions);
    if (rest.length === 0) return;
    this.partitions++;
    this.partitionUntil = now + this.rng.int(1, this.cfg.faults.partitionMaxMs);
    this.host.network.partition(side, rest);
    this.host.trace(
      `PARTITION leader ${leader.id} with a minority: {${side.join(',')}} | {${rest.join(',')}} until ${this.partitionUntil}`,
    );
  }

  /** A member just became leader of `term`: maybe cut it off before its first appends reach a majority. */
  onNewLeader(node: SimNode, term: number, now: number): void {
    if (now >= this.cfg.faultsUntilMs || this.pendingCuts.length >= MAX_PENDING_CUTS) return;
    if (!this.rng.chance(this.cfg.faults.cutNewLeader)) return;
    const at = now + this.rng.int(0, CUT_NEW_LEADER_MAX_MS);
    const kind = this.rng.chance(0.7) ? 'isolate' : 'crash';
    this.pendingCuts.push({ id: node.id, term, at, kind });
    this.host.trace(`${node.id} will be cut off (${kind}) at ${at} if it still leads term ${term}`);
  }

  /** The earliest scheduled cut, or Infinity. */
  nextCutAt(): number {
    let t = Infinity;
    for (const c of this.pendingCuts) if (c.at < t) t = c.at;
    return t;
  }

  /** Carries out the cuts that are due (the simulation calls this every ms it runs). */
  runDueCuts(now: number): void {
    if (this.pendingCuts.length === 0) return;
    for (let i = 0; i < this.pendingCuts.length;) {
      const cut = this.pendingCuts[i]!;
      if (cut.at > now) {
        i++;
        continue;
      }
      this.pendingCuts.splice(i, 1);
      const node = this.host.nodes.get(cut.id);
      const raft = node?.raw?.raft;
      if (node?.state !== 'up' || raft?.role !== 'leader' || raft.term !== cut.term) continue;
      if (cut.kind === 'crash') {
        this.crashes++;
        this.downUntil.set(node.id, now + this.downtime());
        this.host.crash(node, `new leader of term ${cut.term} cut off`);
        continue;
      }
      // The isolation heals on its own schedule, apart from any partition in force: an old leader cut off with a
      // minority may come back while a leader elected after it is still away (the paper's Figure 8).
      const until = now + this.rng.int(1, this.cfg.faults.partitionMaxMs);
      this.partitions++;
      this.isolatedUntil.set(node.id, Math.max(until, this.isolatedUntil.get(node.id) ?? 0));
      this.host.network.isolate(node.id);
      this.host.trace(`${node.id} ISOLATED: new leader of term ${cut.term} cut off until ${until}`);
    }
  }

  private pauseOne(now: number): void {
    const up = this.live().filter((n) => n.state === 'up');
    if (up.length === 0) return;
    const node = this.rng.pick(up);
    this.pausedUntil.set(node.id, now + this.rng.int(1, this.cfg.faults.pauseMaxMs));
    node.pause();
    this.host.trace(`${node.id} PAUSE until ${this.pausedUntil.get(node.id)}`);
  }

  private partition(now: number): void {
    if (this.partitionUntil > 0) return;
    const ids = [...this.host.nodes.values()].filter((n) => n.state !== 'gone').map((n) => n.id);
    if (ids.length < 2) return;
    this.partitions++;
    this.partitionUntil = now + this.rng.int(1, this.cfg.faults.partitionMaxMs);
    const net = this.host.network;
    if (this.rng.chance(0.6)) {
      const shuffled = shuffle(this.rng, ids);
      const cut = this.rng.int(1, shuffled.length - 1);
      const a = shuffled.slice(0, cut);
      const b = shuffled.slice(cut);
      net.partition(a, b);
      this.host.trace(`PARTITION {${a.join(',')}} | {${b.join(',')}} until ${this.partitionUntil}`);
    } else {
      const x = this.rng.pick(ids);
      const outbound = this.rng.chance(0.5);
      for (const y of ids) {
        if (y === x || !this.rng.chance(0.8)) continue;
        if (outbound) net.block(x, y);
        else net.block(y, x);
      }
      this.host.trace(
        `PARTITION one-way ${outbound ? 'from' : 'to'} ${x}: ${net.blockedLinks().join(' ')} until ${this.partitionUntil}`,
      );
    }
  }

  private changeMembership(): void {
    if (!this.proposeMembershipChange(false)) return;
    // Back to back, the changes the guard exists for: ones that change the voters (thesis §4.1).
    for (let n = 1; n < MAX_BURST_CHANGES && this.rng.chance(this.cfg.faults.membershipBurst); n++) {
      if (!this.proposeMembershipChange(true)) return;
    }
  }

  /**
   * Proposes one membership change to the leader, judged against the configuration it applied; returns whether the
   * leader took it. `votersOnly`: promote a learner or remove a voter.
   */
  private proposeMembershipChange(votersOnly: boolean): boolean {
    const leader = this.host.leader();
    if (!leader || leader.raw === undefined) return false;
    const conf = leader.raw.confState();
    const members = conf.voters.length + conf.learners.length;
    const r = this.rng.float();
    if (conf.learners.length > 0 && r < 0.5) {
      const learner = this.rng.pick(conf.learners);
      const pr = leader.raw.status().progress.get(learner);
      // Promote only a learner that caught up, or the new voter would stall commits.
      if (pr === undefined || pr.match + 20 < leader.raw.raft.log.committed) return false;
      return this.propose(leader, 'promote', learner);
    }
    const nonGone = [...this.host.nodes.values()].filter((n) => n.state !== 'gone').length;
    if (!votersOnly && r < 0.8 && members < this.cfg.maxMembers && nonGone <= this.cfg.maxMembers) {
      const node = this.host.addNode();
      if (this.propose(leader, 'addLearner', node.id)) return true;
      this.host.retire(node, 'its addition was refused');
      return false;
    }
    const voters = conf.voters.length > this.cfg.minVoters ? conf.voters : [];
    const removable = votersOnly ? [...voters] : [...voters, ...conf.learners];
    if (removable.length === 0) return false;
    return this.propose(leader, 'remove', this.rng.pick(removable));
  }

  private propose(leader: SimNode, type: 'addLearner' | 'promote' | 'remove', id: NodeId): boolean {
    const ok = leader.proposeConfChange(type, id);
    if (ok) this.membershipChanges++;
    this.host.trace(`${leader.id} CONF ${type} ${id}: ${ok ? 'proposed' : 'refused'}`);
    return ok;
  }

  private transfer(): void {
    const leader = this.host.leader();
    if (!leader || leader.raw === undefined) return;
    const others = leader.raw.confState().voters.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    const to = this.rng.pick(others);
    this.transfers++;
    this.host.trace(`${leader.id} TRANSFER leadership to ${to}`);
    leader.transferLeadership(to);
  }

  /** Wipes members that left the configuration (removed, or never added) once they lingered a little. */
  private retireRemoved(now: number): void {
    const conf = this.host.clusterConf();
    if (conf === undefined) return;
    for (const node of this.host.nodes.values()) {
      if (node.state === 'gone') continue;
      if (conf.voters.includes(node.id) || conf.learners.includes(node.id)) {
        this.outOfConfigSince.delete(node.id);
        continue;
      }
      const since = this.outOfConfigSince.get(node.id) ?? now;
      this.outOfConfigSince.set(node.id, since);
      if (now - node.createdAt > ADD_GRACE_MS && now - since >= RETIRE_AFTER_MS) {
        this.outOfConfigSince.delete(node.id);
        this.downUntil.delete(node.id);
        this.pausedUntil.delete(node.id);
        this.host.retire(node, 'not in the configuration');
      }
    }
  }
}

function shuffle<T>(rng: Prng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
