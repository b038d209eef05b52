// Everything one seed runs with, drawn from the seed (swarm testing: each seed picks its own mix of fault rates
// and core limits, so some seeds are calm and others hostile, and rare combinations get covered).
import type { ClientSettings } from './client.js';
import type { NetworkFaults } from './network.js';
import type { Prng } from '../../src/random/prng.js';
import type { NodeSettings } from './sim-node.js';

export interface FaultRates {
  /** Probabilities per scenario step (every scenarioStepMs). */
  readonly crash: number;
  readonly crashDuringPersist: number;
  /** Arm the trap that crashes a member right after it casts a vote, before its fsync. */
  readonly voteCrash: number;
  /** Partition the leader with a minority. */
  readonly isolateLeader: number;
  /** Per election: probability that the new leader is cut off (isolated or crashed) within a few ms. */
  readonly cutNewLeader: number;
  /** Per crash: probability that the member restarts within a few ticks. */
  readonly quickRestart: number;
  readonly pause: number;
  readonly partition: number;
  readonly membership: number;
  readonly transfer: number;
  /** How long a crashed member stays down, in ms: uniform in [1, downMaxMs]. */
  readonly downMaxMs: number;
  readonly pauseMaxMs: number;
  readonly partitionMaxMs: number;
  /**
   * Per membership change: probability that the leader at once proposes another one. The core must refuse it while
   * the first is not applied (one change at a time, thesis §4.1); this is what makes a dropped guard visible.
   */
  readonly membershipBurst: number;
  /**
   * Per scenario step: probability that one member's disk fills up (no room beyond what it holds, give or take a
   * KiB). A write fails with ENOSPC, the member exits as for any disk error, and its restarts fail the same way
   * until room is made again.
   */
  readonly diskFull: number;
  readonly diskFullMaxMs: number;
  /** Share of scheduled crashes that kill the process only (the page cache survives) rather than cut the power. */
  readonly processKill: number;
}

/**
 * What a seed mostly stresses. `swarm`: everything, membership changes included. `figure8`: five voters, small
 * append messages (replication of a long tail proceeds in steps), leaders isolated with a minority and new leaders
 * cut off at once, so logs of several terms interleave as in the paper's Figure 8. `elections`: term churn, vote
 * traps and quick restarts, pre-vote often off, so candidates of one term compete and a crashed voter is asked again.
 * The last two keep the voters fixed and run without check-quorum half of the time.
 */
export type Profile = 'swarm' | 'figure8' | 'elections';

export interface SeedConfig {
  readonly profile: Profile;
  readonly founders: number;
  /** Members at most (voters plus learners), counting ones being added. */
  readonly maxMembers: number;
  /** Membership changes never take the voters below this. */
  readonly minVoters: number;
  readonly durationMs: number;
  /** Faults stop here; the cluster heals and the clients finish. */
  readonly faultsUntilMs: number;
  /** Clients start no new operation after this. */
  readonly clientsUntilMs: number;
  readonly scenarioStepMs: number;
  readonly tickMs: number;
  readonly clients: number;
  readonly client: ClientSettings;
  readonly node: NodeSettings;
  readonly network: NetworkFaults;
  readonly faults: FaultRates;
  /**
   * Probability that an append leaves its leader as a legal variant the core never chooses itself: starting below
   * the follower's match, or with its entry list cut short (unusual-appends.ts). Not a fault: kept without faults.
   */
  readonly unusualAppends: number;
}

export interface ConfigOverrides {
  readonly durationMs?: number;
  /** Replaces the drawn rate of unusual appends (the draw still happens, so nothing else changes). */
  readonly unusualAppends?: number;
}

const KEYS = ['a', 'b', 'c', 'd'];

/** An override, or the drawn value; a function so the draw happens either way (`??` would skip it). */
function overrideOr(override: number | undefined, drawn: number): number {
  return override ?? drawn;
}

export function drawSeedConfig(rng: Prng, overrides: ConfigOverrides = {}): SeedConfig {
  const durationMs = overrides.durationMs ?? 10_000;
  const profile = rng.pick<Profile>(['swarm', 'swarm', 'figure8', 'elections']);
  const swarm = profile === 'swarm';
  const founders = profile === 'figure8' ? 5 : rng.chance(0.7) ? 3 : 5;
  const hostile = rng.chance(0.3);
  const electionTicks = rng.int(8, 14);
  return {
    profile,
    founders,
    maxMembers: swarm ? founders + rng.int(1, 2) : founders,
    // Some seeds may shrink to one or two voters: rare configurations take other code paths (single-voter fast paths).
    minVoters: !swarm ? founders : rng.chance(0.15) ? rng.int(1, 2) : founders === 3 ? 3 : rng.int(3, 4),
    durationMs,
    faultsUntilMs: Math.floor(durationMs * 0.75),
    clientsUntilMs: Math.floor(durationMs * 0.9),
    scenarioStepMs: 10,
    tickMs: 10,
    clients: rng.int(2, 4),
    client: {
      keys: KEYS.slice(0, rng.int(1, KEYS.length)),
      timeoutMs: rng.int(300, 1500),
      retryMs: rng.int(5, 30),
      readRetryMs: rng.int(50, 200),
      thinkMaxMs: rng.int(10, 100),
    },
    node: {
      electionTicks,
      heartbeatTicks: rng.int(1, Math.min(4, electionTicks - 1)),
      preVote: rng.chance(profile === 'elections' ? 0.5 : 0.8),
      // Without check-quorum there is no leader lease: vote requests reach the log comparison (§5.4.1) instead of
      // being dropped unread, and a stale leader learns its term only from the messages it gets back.
      checkQuorum: rng.chance(profile === 'swarm' ? 0.8 : 0.5),
      // 1 byte: one entry per append (the core always sends at least one), so a long tail is matched step by step.
      maxEntriesBytesPerMessage:
        profile === 'figure8' ? rng.pick([1, 1, 128, 256]) : rng.pick([256, 2048, 1024 * 1024]),
      maxInflightMessages: rng.pick([1, 4, 32, 256]),
      maxUncommittedEntriesBytes: rng.pick([0, 0, 300, 4096]),
      compactEveryEntries: rng.pick([0, 8, 30, 150]),
      retainEntries: rng.pick([0, 2, 10]),
      batchInputs: rng.chance(0.3),
      fsyncMaxMs: rng.pick([0, 0, 3, 15]),
    },
    network: {
      dropRate: hostile ? rng.float() * 0.15 : rng.float() * 0.03,
      duplicateRate: rng.float() * 0.05,
      delayMaxMs: rng.int(1, 25),
      longDelayRate: rng.float() * (hostile ? 0.1 : 0.02),
      longDelayMaxMs: rng.int(50, 600),
    },
    faults: {
      crash: rng.float() * (hostile ? 0.03 : 0.01),
      crashDuringPersist: rng.float() * (hostile ? 0.02 : 0.006),
      voteCrash: profile === 'elections' ? 0.01 + rng.float() * 0.05 : rng.float() * 0.01,
      isolateLeader: swarm ? rng.float() * 0.004 : 0.003 + rng.float() * 0.015,
      cutNewLeader: swarm ? rng.float() * 0.2 : 0.4 + rng.float() * 0.5,
      quickRestart: profile === 'elections' ? 0.5 + rng.float() * 0.4 : rng.float() * 0.4,
      pause: rng.float() * 0.008,
      partition: rng.float() * (hostile ? 0.02 : 0.008),
      membership: swarm ? rng.float() * 0.04 : 0,
      transfer: rng.float() * 0.015,
      downMaxMs: rng.int(50, 2500),
      pauseMaxMs: rng.int(20, 800),
      partitionMaxMs: rng.int(100, 3000),
      // Drawn last, so the draws above (and every seed's older choices) stay as they were.
      membershipBurst: swarm ? rng.float() * 0.6 : 0,
      diskFull: rng.float() * (hostile ? 0.006 : 0.002),
      diskFullMaxMs: rng.int(50, 1500),
      processKill: rng.float(),
    },
    unusualAppends: overrideOr(overrides.unusualAppends, rng.chance(0.5) ? rng.float() * 0.3 : 0),
  };
}

/**
 * The same seed with every fault switched off: no crashes, traps, pauses, partitions or cut leaders, no membership
 * changes or leadership transfers, and a network that neither drops, duplicates nor delays beyond its ordinary
 * latency. Clients, core limits and timings stay as drawn: what the seed achieves healthy, to compare against.
 */
export function withoutFaults(cfg: SeedConfig): SeedConfig {
  return {
    ...cfg,
    network: { ...cfg.network, dropRate: 0, duplicateRate: 0, longDelayRate: 0 },
    faults: {
      ...cfg.faults,
      crash: 0,
      crashDuringPersist: 0,
      voteCrash: 0,
      isolateLeader: 0,
      cutNewLeader: 0,
      quickRestart: 0,
      pause: 0,
      partition: 0,
      membership: 0,
      transfer: 0,
      membershipBurst: 0,
      diskFull: 0,
      processKill: 0,
    },
  };
}
