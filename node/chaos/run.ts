// One chaos run: a real cluster on loopback, concurrent clients, the seed's fault schedule, then kill -9 of every
// member, a restart, and a read of every key. The history (with the final reads) is checked for linearizability
// and the final reads for lost acknowledged writes; everything is written under the output directory.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkLinearizable, type CheckResult } from '../testing/lincheck/check.js';
import { toJsonLines } from '../testing/lincheck/history.js';
import { kvModel } from '../testing/lincheck/kv-model.js';
import { LocalCluster, type LocalMember } from '../src/local-cluster/local-cluster.js';
import { Prng } from '../src/random/prng.js';
import { ClusterAdmin } from './cluster-admin.js';
import { KvSession, SequenceSource } from './kv-session.js';
import { findLostWrites, type KvOperation, type LostWrite } from './lost-writes.js';
import { killMembersUnder } from './orphans.js';
import { Partitioner } from './partition.js';
import { makeSchedule, type Fault, type FaultKind } from './schedule.js';
import { keyName, sleep, Workload } from './workload.js';

export interface RunOptions {
  readonly seed: number;
  readonly members: number;
  readonly durationMs: number;
  readonly outDir: string;
  readonly clients: number;
  readonly keys: number;
  /** Faults every run starts with (the jest test asks for a leader kill). */
  readonly requiredFaults?: readonly FaultKind[];
  /** Fault-free load before the first fault, so every run has acknowledged writes to lose (default 1 s). */
  readonly warmupMs?: number;
  readonly log: (line: string) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly operations: number;
  readonly check: CheckResult['kind'];
  readonly violation: boolean;
  readonly lost: readonly LostWrite[];
  /** Set when the cluster did not come back after the final kill -9 of every member (a liveness failure). */
  readonly unavailable?: string;
  /** The founding members elected no leader within LocalCluster's 30 s (machine overloaded): nothing was tested. */
  readonly notStarted?: true;
  readonly historyFile: string;
}

// Generous: under the shared machine's load a tsx-started member can take 15 s to boot and recover.
const LEADER_WAIT_MS = 60_000;
const FINAL_READ_MS = 30_000;

export async function chaosRun(o: RunOptions): Promise<RunResult> {
  const runDir = join(o.outDir, `seed-${o.seed}`);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const events: string[] = [];
  const t0 = performance.now();
  const now = (): number => Math.round((performance.now() - t0) * 1000) / 1000;
  const event = (text: string): void => {
    events.push(`${now().toFixed(0)}ms ${new Date().toISOString()} ${text}`);
  };
  const schedule = makeSchedule(o.seed, o.durationMs, o.requiredFaults);
  // iptables (root) only when the schedule cuts the network, so kill-only runs work unprivileged.
  const partitioner = schedule.faults.some((f) => f.kind.startsWith('isolate'))
    ? Partitioner.setUp()
    : undefined;
  let cluster: LocalCluster;
  try {
    cluster = await LocalCluster.start({
      members: o.members,
      baseDir: join(runDir, 'data'),
      clusterId: `chaos-${o.seed}`,
      tickMs: 50,
      electionTicks: 10,
      snapshotEntries: 200,
      logLevel: 'info',
    });
  } catch (error) {
    const killed = killMembersUnder(join(runDir, 'data'));
    event(`cluster did not start: ${(error as Error).message}; killed pids ${killed.join(' ')}`);
    await writeFile(join(runDir, 'events.log'), events.join('\n') + '\n');
    if (partitioner) Partitioner.tearDown();
    const historyFile = join(runDir, 'history.jsonl');
    await writeFile(historyFile, '');
    return {
      seed: o.seed,
      operations: 0,
      check: 'linearizable',
      violation: false,
      lost: [],
      notStarted: true,
      historyFile,
    };
  }
  const active = new Set(cluster.members.map((m) => m.name));
  const endpoint = (m: LocalMember): string => `127.0.0.1:${m.clientPort}`;
  const activeMembers = (): LocalMember[] => cluster.members.filter((m) => active.has(m.name));
  const workload = new Workload({
    clients: o.clients,
    keys: o.keys,
    opDeadlineMs: 2000,
    endpoints: () =>
      activeMembers()
        .filter((m) => m.process)
        .map(endpoint),
    now,
    rng: new Prng(o.seed ^ 0x5eed),
    maxOpsPerClient: 2000,
    runId: String(o.seed),
  });
  let result: RunResult;
  let joiners = 0;
  try {
    event('cluster up; workload starts');
    workload.start();
    await sleep(o.warmupMs ?? 1000);
    for (const fault of schedule.faults) {
      try {
        await inject(fault);
      } catch (error) {
        event(`fault ${fault.kind} not applied: ${(error as Error).message}`);
        partitioner?.healAll();
        for (const m of activeMembers()) {
          if (m.process) await cluster.signal(m.name, 'SIGCONT');
          else cluster.restart(m.name);
        }
      }
      await sleep(fault.settleMs);
    }
    await workload.stop();
    event(`workload stopped after ${workload.history.length} operations; kill -9 of every member`);
    await cluster.killAll();
    for (const m of activeMembers()) cluster.restart(m.name);
    const finalValues = new Map<string, string | null>();
    const finalOps: KvOperation[] = [];
    let unavailable: string | undefined;
    try {
      await cluster.waitForLeader(LEADER_WAIT_MS, [...active]);
      await finalReads(finalValues, finalOps);
    } catch (error) {
      unavailable = (error as Error).message;
      event(`unavailable after restart: ${unavailable}`);
    }
    const history = [...workload.history, ...finalOps];
    const historyFile = join(runDir, 'history.jsonl');
    await writeFile(historyFile, toJsonLines(history));
    const check = checkLinearizable(kvModel, history, { deadlineMs: 60_000 });
    const lost = unavailable === undefined ? findLostWrites(workload.history, finalValues) : [];
    if (check.kind === 'violation') {
      await writeFile(join(runDir, 'violation.jsonl'), toJsonLines(check.operations));
      event(`VIOLATION on key ${check.partitionKey}: ${check.explanation}`);
    }
    for (const l of lost) event(`LOST ${JSON.stringify(l)}`);
    result = {
      seed: o.seed,
      operations: history.length,
      check: check.kind,
      violation: check.kind === 'violation',
      lost,
      ...(unavailable === undefined ? {} : { unavailable }),
      historyFile,
    };
  } finally {
    // Bounded: each op has a deadline, so stop() returns; kill everything before removing the rules.
    await workload.stop();
    await cluster.killAll();
    partitioner?.healAll();
    if (partitioner) Partitioner.tearDown();
    await writeFile(join(runDir, 'events.log'), events.join('\n') + '\n');
  }
  // Keep data directories and member logs only when something went wrong.
  if (!result.violation && result.lost.length === 0 && result.unavailable === undefined) {
    await rm(join(runDir, 'data'), { recursive: true, force: true });
  }
  await writeFile(join(runDir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
  return result;

  async function leader(): Promise<LocalMember> {
    return cluster.member(await cluster.waitForLeader(LEADER_WAIT_MS, [...active]));
  }

  async function follower(pick: number): Promise<LocalMember> {
    const l = await leader();
    const others = activeMembers().filter((m) => m.name !== l.name && m.process);
    if (others.length === 0) throw new Error('no running follower');
    return others[pick % others.length]!;
  }

  async function inject(fault: Fault): Promise<void> {
    switch (fault.kind) {
      case 'kill-leader':
      case 'kill-follower': {
        const m = fault.kind === 'kill-leader' ? await leader() : await follower(fault.pick);
        event(`${fault.kind}: kill -9 ${m.name}`);
        await cluster.signal(m.name, 'SIGKILL');
        await sleep(fault.holdMs);
        cluster.restart(m.name);
        event(`restart ${m.name}`);
        return;
      }
      case 'pause-leader':
      case 'pause-follower': {
        const m = fault.kind === 'pause-leader' ? await leader() : await follower(fault.pick);
        event(`${fault.kind}: SIGSTOP ${m.name}`);
        await cluster.signal(m.name, 'SIGSTOP');
        await sleep(fault.holdMs);
        await cluster.signal(m.name, 'SIGCONT');
        event(`SIGCONT ${m.name}`);
        return;
      }
      case 'isolate-leader':
      case 'isolate-follower': {
        const m = fault.kind === 'isolate-leader' ? await leader() : await follower(fault.pick);
        event(`${fault.kind}: drop peer traffic to ${m.name} (:${m.peerPort})`);
        if (!partitioner) throw new Error('no partitioner set up');
        partitioner.isolate(m.peerPort);
        await sleep(fault.holdMs);
        partitioner.heal(m.peerPort);
        event(`heal ${m.name}`);
        return;
      }
      case 'transfer-leadership': {
        const l = await leader();
        const to = await follower(fault.pick);
        event(`transfer leadership ${l.name} -> ${to.name}`);
        const admin = new ClusterAdmin(endpoint(l), 5000);
        try {
          event(`transfer done, leader ${await admin.transferLeadership(to.name)}`);
        } finally {
          admin.close();
        }
        return;
      }
      case 'replace-member':
        await replaceMember(fault);
        return;
    }
  }

  async function replaceMember(fault: Fault): Promise<void> {
    joiners += 1;
    const name = `j${joiners}`;
    const joiner = await cluster.startJoiner(name);
    event(`replace-member: started joiner ${name}`);
    let status;
    const deadline = Date.now() + 40_000;
    while (!(status = await cluster.status(name, 500)) && Date.now() < deadline) await sleep(100);
    if (!status) throw new Error(`joiner ${name} never answered Status`);
    const l = await leader();
    const admin = new ClusterAdmin(endpoint(l), 5000);
    try {
      await admin.addLearner({
        name,
        id: status.id,
        address: `127.0.0.1:${joiner.peerPort}`,
        incarnation: status.incarnation,
        clientAddress: endpoint(joiner),
      });
      active.add(name);
      event(`learner ${name} (${status.id}) added`);
      let promoted = false;
      const promoteBy = Date.now() + 20_000;
      while (!promoted && Date.now() < promoteBy) {
        try {
          await admin.promote(status.id);
          promoted = true;
        } catch (error) {
          event(`promote ${name}: ${(error as Error).message}`);
          await sleep(300);
        }
      }
      if (!promoted) throw new Error(`learner ${name} was not promoted within 20 s`);
      event(`${name} promoted`);
      // Keep the voter count: remove one of the old followers and retire its process.
      const victim = activeMembers().filter((m) => m.name !== l.name && m.name !== name)[
        fault.pick % (active.size - 2)
      ];
      if (!victim) return;
      const members = await admin.members();
      const entry = members.find((x) => x.name === victim.name);
      if (!entry) throw new Error(`${victim.name} missing from MemberList`);
      await admin.removeMember(entry.id);
      active.delete(victim.name);
      event(`removed ${victim.name} (${entry.id})`);
      await cluster.signal(victim.name, 'SIGKILL');
    } finally {
      admin.close();
    }
  }

  async function finalReads(values: Map<string, string | null>, ops: KvOperation[]): Promise<void> {
    const readBy = Date.now() + FINAL_READ_MS;
    const members = activeMembers();
    const sequence = new SequenceSource();
    let attempt = 0;
    for (let k = 0; k < o.keys; k++) {
      const key = keyName(k);
      for (;;) {
        const m = members[attempt % members.length]!;
        const session = new KvSession(endpoint(m), `chaos-${o.seed}-final`, 2000, sequence);
        const call = now();
        try {
          const value = await session.get(key);
          ops.push({
            client: 1_000_000,
            input: { op: 'get', key },
            call,
            output: { op: 'get', value },
            return: now(),
          });
          values.set(key, value);
          break;
        } catch (error) {
          attempt += 1;
          if (Date.now() > readBy)
            throw new Error(`final read of ${key} failed for 30 s: ${(error as Error).message}`);
          await sleep(100);
        } finally {
          session.close();
        }
      }
    }
  }
}
