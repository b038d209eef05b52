// The planner on a table of situations, each replayed in a simulated world (operator/testing/sim-world.ts) until it
// converges, and re-run from every intermediate state as if the operator had crashed there (before or after acting,
// or after acting twice). The world itself flags unsafe steps: removing an absent id, re-adding a removed id, losing
// quorum.
import type { RaftCluster, RaftClusterSpec } from '../api/raftcluster.js';
import { podName } from '../children/names.js';
import type { Action, ActionType, Plan } from './action.js';
import { DISRUPTIVE } from './action.js';
import { DEFAULT_PLANNER_OPTIONS, plan, type PlannerOptions } from './plan.js';
import {
  apply,
  baseSpec,
  checkPlanned,
  clone,
  emptyWorld,
  observe,
  tick,
  type SimWorld,
} from '../../testing/sim-world.js';

const OPTIONS: PlannerOptions = { ...DEFAULT_PLANNER_OPTIONS, learnerLagMax: 30, stepTimeoutSeconds: 120 };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const STEP_MS = 5000;
const MAX_STEPS = 200;

type Status = RaftCluster['status'];

interface TraceEntry {
  world: SimWorld;
  status: Status;
  plan: Plan;
  at: number;
}

interface RunResult {
  world: SimWorld;
  trace: TraceEntry[];
  status: Status;
}

/** The reconcile loop against the simulated world: observe, plan, write status.operation, act, let time pass. */
function run(
  start: SimWorld,
  status: Status = undefined,
  at = T0,
  opts: { tickFirst?: boolean } = {},
): RunResult {
  const w = clone(start);
  const trace: TraceEntry[] = [];
  let st = status;
  if (opts.tickFirst === true) tick(w);
  for (let i = 0; i < MAX_STEPS; i++) {
    const p = plan(observe(w, st), new Date(at), OPTIONS);
    trace.push({ world: clone(w), status: structuredClone(st), plan: p, at });
    st = p.operation === undefined ? {} : { operation: p.operation };
    if (p.action.type === 'Done') return { world: w, trace, status: st };
    checkPlanned(w, p.action);
    apply(w, p.action);
    tick(w);
    at += STEP_MS;
  }
  throw new Error(`did not converge in ${MAX_STEPS} steps; last: ${JSON.stringify(trace.at(-1)?.plan)}`);
}

function expectConverged(w: SimWorld): void {
  expect(w.violations).toEqual([]);
  const n = w.spec.replicas;
  const names = Array.from({ length: n }, (_, i) => podName('demo', 0, i));
  expect(w.sts?.replicas).toBe(n);
  expect(w.sts?.initialClusterState).toBe('existing');
  expect(w.members.map((m) => m.name).sort()).toEqual([...names].sort());
  expect(w.members.every((m) => m.role === 'voter' && m.healthy)).toBe(true);
  expect(w.leaderId).toBeDefined();
  const image = w.spec.image ?? `raftstore/node:${w.spec.version}`;
  expect(w.pods.every((p) => p.image === image)).toBe(true);
  if (w.spec.pvcRetention.whenScaled === 'Delete') {
    // A claim already in deletion is Kubernetes' to finish (pvc-protection); nothing left for the operator.
    expect(w.pvcs.filter((v) => v.ordinal >= n && !v.deleting)).toEqual([]);
  }
}

function converge(spec: RaftClusterSpec): SimWorld {
  const r = run(emptyWorld(spec));
  expectConverged(r.world);
  return r.world;
}

function withSpec(w: SimWorld, patch: Partial<RaftClusterSpec>): SimWorld {
  const c = clone(w);
  c.spec = { ...c.spec, ...patch };
  return c;
}

function actions(trace: TraceEntry[]): Action[] {
  return trace.map((e) => e.plan.action);
}

function types(trace: TraceEntry[]): ActionType[] {
  return actions(trace)
    .map((a) => a.type)
    .filter((t) => t !== 'Wait');
}

/** From every intermediate state: crash before acting, after acting, after acting twice. Each must converge safely. */
function replayCrashes(trace: TraceEntry[]): void {
  for (const e of trace) {
    if (e.plan.action.type === 'Done') continue;
    // Status written, action not taken: the replan must want the very same action.
    const again = plan(
      observe(clone(e.world), { operation: e.plan.operation! }),
      new Date(e.at + 1000),
      OPTIONS,
    );
    expect(again.action).toEqual(e.plan.action);
    // Action taken, status not updated; observed again before anything else happened, or after the executor
    // retried the action once more.
    for (const times of [1, 2]) {
      const w = clone(e.world);
      for (let k = 0; k < times; k++) apply(w, e.plan.action);
      const r = run(w, e.status, e.at + 1000);
      expectConverged(r.world);
    }
  }
}

/** What an upgrade and any other member spec change do to three members: followers first, the leader last. */
const ROLLING_RESTART_OF_THREE = [
  'ApplyChildren',
  'DeletePod demo-2',
  'DeletePod demo-1',
  'TransferLeadership',
  'DeletePod demo-0',
  'Done',
];

describe('planner flows (simulated, with crash replay from every step)', () => {
  test('create: founders bootstrap, then the StatefulSet switches to existing', () => {
    const r = run(emptyWorld(baseSpec()));
    expectConverged(r.world);
    // A group starts on the base data format; once every founder reports the newer one its version reads, it is raised.
    expect(types(r.trace)).toEqual(['ApplyChildren', 'SetInitialClusterState', 'SetDataFormat', 'Done']);
    expect(r.trace[0]!.plan.operation?.type).toBe('Bootstrap');
    replayCrashes(r.trace);
  });

  test('create a single-member cluster', () => {
    const r = run(emptyWorld(baseSpec({ replicas: 1 })));
    expectConverged(r.world);
  });

  test('scale up 3→5: one member at a time, added as learner, promoted when caught up', () => {
    const start = withSpec(converge(baseSpec()), { replicas: 5 });
    const r = run(start);
    expectConverged(r.world);
    expect(types(r.trace)).toEqual([
      'ScaleStatefulSet',
      'AddLearner',
      'PromoteLearner',
      'ScaleStatefulSet',
      'AddLearner',
      'PromoteLearner',
      'Done',
    ]);
    const catchUp = r.trace.find((e) => e.plan.operation?.step === 'CatchUp');
    expect(catchUp?.plan.operation?.message).toMatch(
      /^scaling [34]→5: member demo-[34] added as learner, \d+% caught up$/,
    );
    replayCrashes(r.trace);
  });

  test('scale down 5→3 with the leader on the highest ordinal: leadership moves first, then remove, shrink, delete PVC', () => {
    const big = converge(baseSpec({ replicas: 5 }));
    big.leaderId = big.members.find((m) => m.name === 'demo-4')!.id;
    const r = run(withSpec(big, { replicas: 3 }));
    expectConverged(r.world);
    expect(types(r.trace)).toEqual([
      'TransferLeadership',
      'RemoveMember',
      'ScaleStatefulSet',
      'DeletePVC',
      'RemoveMember',
      'ScaleStatefulSet',
      'DeletePVC',
      'Done',
    ]);
    const removed = actions(r.trace).filter((a) => a.type === 'RemoveMember');
    expect(removed.map((a) => (a.type === 'RemoveMember' ? a.id : ''))).toEqual(['f4', 'f3']);
    replayCrashes(r.trace);
  });

  test('scale down with Retain keeps the volumes; scaling back up never lets the removed members rejoin as themselves', () => {
    const down = run(
      withSpec(converge(baseSpec()), {
        replicas: 1,
        pvcRetention: { whenScaled: 'Retain', whenDeleted: 'Retain' },
      }),
    );
    expectConverged(down.world);
    expect(down.world.pvcs.map((v) => v.ordinal).sort()).toEqual([0, 1, 2]);
    expect(types(down.trace)).not.toContain('DeletePVC');
    const up = run(withSpec(down.world, { replicas: 3 }));
    expectConverged(up.world);
    // The old ids f1, f2 are gone for good; demo-1 and demo-2 came back under fresh ids.
    expect(up.world.members.map((m) => m.id).filter((id) => id === 'f1' || id === 'f2')).toEqual([]);
    expect(types(up.trace)).toContain('DeletePVC');
    replayCrashes(up.trace);
  });

  test('rolling upgrade: followers first, one at a time, the leader last after a transfer', () => {
    const start = withSpec(converge(baseSpec()), { version: '1.1.0' });
    const r = run(start);
    expectConverged(r.world);
    const acts = actions(r.trace).filter((a) => a.type !== 'Wait');
    expect(acts.map((a) => (a.type === 'DeletePod' ? `DeletePod ${a.name}` : a.type))).toEqual(
      ROLLING_RESTART_OF_THREE,
    );
    // Each restart waited for the previous pod to be back (a Wait between two DeletePods).
    const kinds = types(r.trace);
    expect(kinds.filter((t) => t === 'DeletePod')).toHaveLength(3);
    replayCrashes(r.trace);
  });

  test('a change of resources and Raft timing rolls out like an upgrade: each pod once, followers first, leader last', () => {
    const start = converge(baseSpec());
    start.restarts = {};
    const changed = withSpec(start, {
      resources: { requests: { cpu: '250m', memory: '256Mi' } },
      raft: { tickMs: 50, electionTicks: 20, heartbeatTicks: 2 },
    });
    const r = run(changed);
    expectConverged(r.world);
    const acts = actions(r.trace).filter((a) => a.type !== 'Wait');
    expect(acts.map((a) => (a.type === 'DeletePod' ? `DeletePod ${a.name}` : a.type))).toEqual(
      ROLLING_RESTART_OF_THREE,
    );
    expect(r.world.restarts).toEqual({ 'demo-0': 1, 'demo-1': 1, 'demo-2': 1 });
    const ops = r.trace.map((e) => e.plan.operation).filter((o) => o !== undefined);
    expect(ops[0]).toMatchObject({ type: 'Rollout', step: 'ApplyChildren' });
    expect(ops.find((o) => o.step === 'DeletePod')?.message).toMatch(
      /^rolling out a member spec change \(0\/3 done\): restarting demo-2$/,
    );
    expect(r.world.pods.every((p) => p.memberHash === r.world.sts?.memberHash)).toBe(true);
    replayCrashes(r.trace);
  });

  test('fields that shape no pod change the children only; scaling, pausing and resharding restart nothing', () => {
    const start = converge(baseSpec());
    start.restarts = {};
    const service = run(withSpec(start, { service: { type: 'NodePort' } }));
    expect(types(service.trace)).toEqual(['ApplyChildren', 'Done']);
    expect(service.trace[0]?.plan.operation).toMatchObject({ type: 'Rollout', step: 'ApplyChildren' });
    expect(service.world.restarts).toEqual({});
    const paused = run(withSpec(start, { paused: true }));
    expect(types(paused.trace)).toEqual(['Done']);
  });

  test('paused stops a spec rollout between pods; unpausing resumes it', () => {
    const start = withSpec(converge(baseSpec()), {
      resources: { limits: { memory: '1Gi' } },
      paused: true,
    });
    const p = plan(observe(clone(start), undefined), new Date(T0), OPTIONS);
    // The templates may be updated (that restarts nothing); the restarts wait.
    expect(p.action.type).toBe('ApplyChildren');
    const w = clone(start);
    apply(w, p.action);
    tick(w);
    const next = plan(observe(w, { operation: p.operation! }), new Date(T0 + STEP_MS), OPTIONS);
    expect(next.action).toMatchObject({ type: 'Wait', reason: 'Paused' });
    expect(next.operation?.message).toMatch(/^paused: would DeletePod demo-2/);
    const resumed = run(withSpec(w, { paused: false }));
    expectConverged(resumed.world);
    expect(types(resumed.trace)).toContain('DeletePod');
  });

  test('pods from before pods carried a member hash are judged by image: a new operator restarts nothing', () => {
    const start = converge(baseSpec());
    start.restarts = {};
    for (const p of start.pods) p.memberHash = undefined as unknown as string;
    if (start.sts !== undefined) start.sts.childrenHash = 'from-an-older-operator';
    const r = run(start);
    expect(types(r.trace)).toEqual(['ApplyChildren', 'Done']);
    expect(r.world.restarts).toEqual({});
  });

  test('upgrade of a single member proceeds (a brief outage is unavoidable) and says so', () => {
    const r = run(withSpec(converge(baseSpec({ replicas: 1 })), { version: '2.0.0' }));
    expectConverged(r.world);
    const del = r.trace.find((e) => e.plan.action.type === 'DeletePod');
    expect(del?.plan.operation?.message).toMatch(/brief outage/);
  });

  test('a member whose volume was wiped is fenced (old id removed) and re-added as a fresh learner', () => {
    const w = converge(baseSpec());
    const pvc = w.pvcs.find((v) => v.ordinal === 1)!;
    pvc.dataId = undefined;
    w.pods.find((p) => p.ordinal === 1)!.deleting = true;
    tick(w);
    tick(w);
    const r = run(w);
    expectConverged(r.world);
    expect(types(r.trace)).toEqual(['RemoveMember', 'AddLearner', 'PromoteLearner', 'Done']);
    expect(r.trace.find((e) => e.plan.action.type === 'RemoveMember')?.plan.action).toEqual({
      type: 'RemoveMember',
      shard: 0,
      id: 'f1',
    });
    expect(r.world.members.find((m) => m.name === 'demo-1')?.id).not.toBe('f1');
    replayCrashes(r.trace);
  });

  test('a founder that started after the others formed the shard (it joined as a new incarnation) ends the bootstrap, then is fenced and re-added', () => {
    // Seen on a real cluster: one founder's volume was bound late; the node found the cluster existing and started as
    // a joiner under a new id, while the others listed it as founder voter "f2". Waiting for "all founders healthy"
    // would never end.
    const w = converge(baseSpec());
    w.sts!.initialClusterState = 'new';
    const late = w.pods.find((p) => p.ordinal === 2)!;
    late.id = 'n9';
    late.joined = false;
    w.pvcs.find((v) => v.ordinal === 2)!.dataId = undefined;
    const r = run(w);
    expectConverged(r.world);
    expect(types(r.trace)).toEqual([
      'SetInitialClusterState',
      'RemoveMember',
      'AddLearner',
      'PromoteLearner',
      'Done',
    ]);
    expect(r.world.members.find((m) => m.name === 'demo-2')?.id).toBe('n9');
    replayCrashes(r.trace);
  });

  test('a deleted pod rejoins with its volume: no membership change, only waiting while degraded', () => {
    const w = converge(baseSpec());
    w.pods.find((p) => p.ordinal === 2)!.deleting = true;
    const r = run(w, undefined, T0, { tickFirst: true });
    expectConverged(r.world);
    expect(types(r.trace)).toEqual(['Done']);
    expect(r.trace[0]!.plan.operation?.step).toBe('WaitMember');
    expect(r.world.members.map((m) => m.id).sort()).toEqual(['f0', 'f1', 'f2']);
  });

  test('paused: no disruptive action, the would-be step is reported; unpausing resumes', () => {
    const paused = withSpec(converge(baseSpec()), { replicas: 5, paused: true });
    const p = plan(observe(paused), new Date(T0), OPTIONS);
    expect(p.action).toEqual({ type: 'Wait', reason: 'Paused', requeueAfterSeconds: OPTIONS.resyncSeconds });
    expect(p.operation?.message).toMatch(/^paused: would ScaleStatefulSet/);
    const r = run(withSpec(paused, { paused: false }));
    expectConverged(r.world);
  });
});

describe('planner situations (single observations)', () => {
  function healthy3(): SimWorld {
    return converge(baseSpec());
  }

  test('quorum lost: wait, never remove or restart anything', () => {
    const w = healthy3();
    for (const p of w.pods.filter((x) => x.ordinal > 0)) p.running = false;
    const p = plan(observe(withSpec(w, { replicas: 1 })), new Date(T0), OPTIONS);
    expect(p.action.type).toBe('Wait');
    expect(p.operation?.step).toBe('WaitQuorum');
  });

  test('no member answers: wait, nothing disruptive', () => {
    const p = plan(observe(withSpec(healthy3(), { replicas: 5 }), undefined, true), new Date(T0), OPTIONS);
    expect(p.action.type).toBe('Wait');
  });

  test('scale down of a degraded cluster: the removal that would lose quorum waits', () => {
    const w = converge(baseSpec({ replicas: 4 }));
    // demo-1 and demo-2 down: removing the healthy demo-3 would leave 1/3 up.
    for (const p of w.pods.filter((x) => x.ordinal === 1 || x.ordinal === 2)) p.running = false;
    w.leaderId = 'f0';
    const p = plan(observe(withSpec(w, { replicas: 3 })), new Date(T0), OPTIONS);
    expect(p.action.type).toBe('Wait');
  });

  test('a removed member of a degraded cluster that is down itself may go (it does not count towards quorum)', () => {
    const w = converge(baseSpec({ replicas: 5 }));
    w.pods.find((x) => x.ordinal === 4)!.running = false;
    const p = plan(observe(withSpec(w, { replicas: 3 })), new Date(T0), OPTIONS);
    expect(p.action).toEqual({ type: 'RemoveMember', shard: 0, id: 'f4' });
  });

  test('upgrade waits while any member is down', () => {
    const w = withSpec(healthy3(), { version: '9.9.9' });
    apply(w, { type: 'ApplyChildren' });
    w.pods.find((x) => x.ordinal === 0)!.running = false;
    const p = plan(observe(w), new Date(T0), OPTIONS);
    expect(p.action.type).toBe('Wait');
  });

  test('a step that does not complete is reported as stalled after the timeout, and resumes when fixed', () => {
    const w = withSpec(healthy3(), { version: '1.1.0' });
    apply(w, { type: 'ApplyChildren' });
    const first = plan(observe(w), new Date(T0), OPTIONS);
    expect(first.action).toEqual({ type: 'DeletePod', shard: 0, name: 'demo-2' });
    apply(w, first.action);
    tick(w);
    // The new pod never starts (e.g. an image that cannot be pulled).
    w.pods.find((x) => x.ordinal === 2)!.running = false;
    const waiting = plan(observe(w, { operation: first.operation! }), new Date(T0 + 5000), OPTIONS);
    expect(waiting.action.type).toBe('Wait');
    const later = plan(observe(w, { operation: waiting.operation! }), new Date(T0 + 5000 + 121_000), OPTIONS);
    expect(later.operation?.step).toBe('Stalled:WaitMember');
    expect(later.operation?.startedAt).toBe(waiting.operation?.startedAt);
    tick(w);
    const r = run(w, { operation: later.operation! }, T0 + 200_000);
    expectConverged(r.world);
  });

  test('status.operation is stable while the same step goes on (no status write on every reconcile)', () => {
    const w = withSpec(healthy3(), { replicas: 5 });
    const a = plan(observe(w), new Date(T0), OPTIONS);
    const b = plan(observe(w, { operation: a.operation! }), new Date(T0 + 30_000), OPTIONS);
    expect(b.operation).toEqual(a.operation);
  });

  test('every disruptive action carries the operation recorded before it', () => {
    const r = run(withSpec(converge(baseSpec()), { replicas: 5 }));
    for (const e of r.trace) {
      if (DISRUPTIVE.has(e.plan.action.type)) expect(e.plan.operation).toBeDefined();
    }
  });
});

describe('several shards', () => {
  /** The same observed shard as shard 1 (its pods and members renamed demo-s1-N). */
  function asShard1(obs: ReturnType<typeof observe>): ReturnType<typeof observe>['shards'][number] {
    const s0 = obs.shards[0]!;
    const json = JSON.stringify(s0)
      .replaceAll('"demo-', '"demo-s1-')
      .replaceAll('"data-demo-', '"data-demo-s1-');
    return { ...(JSON.parse(json) as typeof s0), shard: 1 };
  }

  test('a waiting shard does not hold back another; one disruptive action per cluster', () => {
    // The simulated world has one shard; the second is a renamed copy of it.
    const healthy = converge(baseSpec());
    const degraded = clone(healthy);
    degraded.pods.find((p) => p.ordinal === 1)!.running = false;
    const spec = { ...healthy.spec, replicas: 5, shards: 2 };
    const obs = observe(withSpec(degraded, spec));
    obs.shards.push(asShard1(observe(withSpec(healthy, spec))));
    const p = plan(obs, new Date(T0), OPTIONS);
    expect(p.action).toEqual({ type: 'ScaleStatefulSet', shard: 1, replicas: 4 });
    expect(p.operation?.shard).toBe(1);
  });

  test('a missing StatefulSet of one shard is re-created before anything else', () => {
    const healthy = withSpec(converge(baseSpec()), { shards: 2 });
    const obs = observe(healthy);
    obs.shards.push({
      ...asShard1(obs),
      statefulSet: undefined,
      pods: [],
      pvcs: [],
      raft: { kind: 'unreachable', reason: 'no pods' },
    });
    expect(plan(obs, new Date(T0), OPTIONS).action).toEqual({ type: 'ApplyChildren' });
  });
});
