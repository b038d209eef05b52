import type { Condition } from '../api/raftcluster.js';
import { plan } from '../planner/plan.js';
import { baseSpec, observe, type SimWorld, convergedWorld } from '../../testing/sim-world.js';
import {
  computeConditions,
  evaluate,
  progressingPolicies,
  volumesResizedPolicies,
  setCondition,
  type ConditionInput,
} from './conditions.js';
import { buildStatus, statusChanged } from './status.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const LATER = new Date('2026-01-01T00:10:00Z');

const healthyWorld = (): SimWorld => convergedWorld(baseSpec(), NOW);

function input(over: Partial<ConditionInput> = {}): ConditionInput {
  return {
    health: 'healthy',
    healthMessage: '3/3 voters up',
    operation: undefined,
    paused: false,
    shards: 1,
    warnings: [],
    podProblems: [],
    stepFailure: undefined,
    volumes: { size: '1Gi', blocked: undefined, pending: [], total: 3 },
    version: { accepted: true, reason: 'Running', message: 'every member runs 0.2.0 (data format 2)' },
    ...over,
  };
}

function byType(cs: Condition[], type: string): Condition {
  return cs.find((c) => c.type === type)!;
}

describe('condition policies', () => {
  test('VolumesResized: blocked says why, growing names the volumes behind, then True', () => {
    const blocked = input({
      volumes: {
        size: '2Gi',
        blocked: {
          reason: 'ExpansionNotAllowed',
          message: 'StorageClass fixed does not allow volume expansion',
        },
        pending: ['data-demo-0: 1Gi'],
        total: 3,
      },
    });
    expect(evaluate(volumesResizedPolicies, blocked)).toEqual({
      status: 'False',
      reason: 'ExpansionNotAllowed',
      message: 'StorageClass fixed does not allow volume expansion',
    });
    const growing = input({
      volumes: {
        size: '2Gi',
        blocked: undefined,
        pending: ['a: 1Gi', 'b: 1Gi', 'c: 1Gi', 'd: 1Gi (FileSystemResizePending)'],
        total: 6,
      },
    });
    expect(evaluate(volumesResizedPolicies, growing)).toEqual({
      status: 'False',
      reason: 'Resizing',
      message: '2 of 6 volume(s) at 2Gi; growing: a: 1Gi; b: 1Gi; c: 1Gi; …',
    });
    expect(evaluate(volumesResizedPolicies, input())).toEqual({
      status: 'True',
      reason: 'VolumesAtSize',
      message: 'every member volume (3) has storage.size 1Gi',
    });
  });

  test.each<[ConditionInput['health'], string, string]>([
    ['healthy', 'True/QuorumAvailable', 'False/AllMembersHealthy'],
    ['degraded', 'True/QuorumAvailable', 'True/MembersDown'],
    ['unhealthy', 'False/QuorumLost', 'True/QuorumLost'],
    ['unknown', 'Unknown/MembersUnreachable', 'Unknown/MembersUnreachable'],
  ])('health %s → Available %s, Degraded %s', (health, available, degraded) => {
    const cs = computeConditions(undefined, input({ health }), 4, NOW);
    const a = byType(cs, 'Available');
    const d = byType(cs, 'Degraded');
    expect(`${a.status}/${a.reason}`).toBe(available);
    expect(`${d.status}/${d.reason}`).toBe(degraded);
    expect(cs.every((c) => c.observedGeneration === 4)).toBe(true);
  });

  test('Progressing: stalled beats paused beats an operation beats converged', () => {
    const op = {
      type: 'Upgrade' as const,
      step: 'DeletePod',
      message: 'restarting demo-2',
      startedAt: NOW.toISOString(),
    };
    expect(evaluate(progressingPolicies, input({ operation: op })).reason).toBe('Upgrade');
    expect(evaluate(progressingPolicies, input({ operation: op, paused: true })).reason).toBe('Paused');
    const stalled = { ...op, step: 'Stalled:WaitMember' };
    expect(evaluate(progressingPolicies, input({ operation: stalled, paused: true }))).toMatchObject({
      status: 'False',
      reason: 'StepStalled',
    });
    expect(evaluate(progressingPolicies, input())).toMatchObject({ status: 'False', reason: 'Converged' });
  });

  test('Progressing: a refused step, then member pods that cannot start, come before anything else', () => {
    const op = {
      type: 'Rollout' as const,
      step: 'ApplyChildren',
      message: 'applying a spec change',
      startedAt: NOW.toISOString(),
    };
    const refused =
      'StatefulSet.apps "demo" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value';
    expect(
      evaluate(progressingPolicies, input({ operation: op, stepFailure: refused, paused: true })),
    ).toEqual({
      status: 'False',
      reason: 'StepFailing',
      message: `ApplyChildren failed and is retried with backoff: ${refused}`,
    });
    const pods = [
      'demo-2: ImagePullBackOff: Back-off pulling image "raftstore/node:9.9.9"',
      'demo-1: Unschedulable: 0/3 nodes are available',
      'demo-0: CrashLoopBackOff',
      'demo-3: ErrImagePull',
    ];
    expect(evaluate(progressingPolicies, input({ operation: op, podProblems: pods }))).toEqual({
      status: 'False',
      reason: 'MemberPodsFailing',
      message: `4 member pod(s) cannot start: ${pods.slice(0, 3).join('; ')}; …`,
    });
  });

  test('lastTransitionTime moves only when the status flips', () => {
    const first = setCondition(
      undefined,
      'Degraded',
      { status: 'True', reason: 'MembersDown', message: 'a' },
      1,
      NOW,
    );
    const sameStatus = setCondition(
      [first],
      'Degraded',
      { status: 'True', reason: 'QuorumLost', message: 'b' },
      2,
      LATER,
    );
    expect(sameStatus.lastTransitionTime).toBe(NOW.toISOString());
    expect(sameStatus.reason).toBe('QuorumLost');
    const flipped = setCondition(
      [sameStatus],
      'Degraded',
      { status: 'False', reason: 'AllMembersHealthy', message: 'c' },
      2,
      LATER,
    );
    expect(flipped.lastTransitionTime).toBe(LATER.toISOString());
  });

  test('an even replica count is warned about in Available', () => {
    const a = byType(
      computeConditions(undefined, input({ warnings: ['replicas=4 is even'] }), 1, NOW),
      'Available',
    );
    expect(a.message).toContain('warning: replicas=4 is even');
  });
});

describe('buildStatus', () => {
  test('a healthy cluster: members, leader, selector for /scale, version, conditions', () => {
    const obs = observe(healthyWorld());
    const s = buildStatus(obs, plan(obs, NOW), NOW);
    expect(s).toMatchObject({
      observedGeneration: 1,
      health: 'healthy',
      faultTolerance: 1,
      replicas: 3,
      readyReplicas: 3,
      selector: 'app.kubernetes.io/name=raftstore,app.kubernetes.io/instance=demo',
      leader: 'demo-0',
      currentVersion: '1.0.0',
      lastProbeTime: NOW.toISOString(),
    });
    expect(s.members?.map((m) => m.role)).toEqual(['leader', 'follower', 'follower']);
    expect(s.operation).toBeUndefined();
    expect(byType(s.conditions!, 'Available').status).toBe('True');
  });

  test('versions: a mixed-version cluster lists each version; a refused version says why and is not converged', () => {
    const w = convergedWorld(baseSpec({ version: '0.1.0' }), NOW);
    w.spec = { ...w.spec, version: '0.2.0' };
    w.pods[2] = { ...w.pods[2]!, image: 'raftstore/node:0.2.0' };
    const mixed = observe(w);
    const s = buildStatus(mixed, plan(mixed, NOW), NOW);
    expect(s.versions).toEqual([
      { version: '0.2.0', members: 1 },
      { version: '0.1.0', members: 2 },
    ]);
    expect(s.currentVersion).toBeUndefined();
    expect(s.dataFormat).toBe(1);
    expect(byType(s.conditions!, 'VersionAccepted')).toMatchObject({
      status: 'True',
      reason: 'Upgrading',
      message: 'upgrading 0.1.0 → 0.2.0: 1 of 3 members run 0.2.0; data format 1 until every member runs it',
    });

    const skip = convergedWorld(baseSpec({ version: '0.1.0' }), NOW);
    skip.spec = { ...skip.spec, version: '0.3.0' };
    const refused = observe(skip);
    const r = buildStatus(refused, plan(refused, NOW), NOW);
    expect(byType(r.conditions!, 'VersionAccepted')).toMatchObject({
      status: 'False',
      reason: 'SkipsMinorVersion',
    });
    expect(byType(r.conditions!, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'SkipsMinorVersion',
    });
    expect(r.versions).toEqual([{ version: '0.1.0', members: 3 }]);
  });

  test('a pod that cannot start and a step that failed reach Progressing within the same reconcile', () => {
    const obs = observe(healthyWorld());
    obs.shards[0]!.pods[2] = { ...obs.shards[0]!.pods[2]!, problem: 'ErrImagePull: image not found' };
    const s = buildStatus(obs, plan(obs, NOW), NOW);
    expect(byType(s.conditions!, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'MemberPodsFailing',
      message: '1 member pod(s) cannot start: demo-2: ErrImagePull: image not found',
    });
    const failed = buildStatus(obs, plan(obs, NOW), NOW, 'the server refused the apply');
    expect(byType(failed.conditions!, 'Progressing')).toMatchObject({ reason: 'StepFailing' });
  });

  test('every member down: never "healthy"; when no member answers the probe time stays at the last success', () => {
    const w = healthyWorld();
    const before = buildStatus(observe(w), plan(observe(w), NOW), NOW);
    for (const p of w.pods) p.running = false;
    const down = observe(w, before);
    const s = buildStatus(down, plan(down, LATER), LATER);
    expect(s.health).toBe('unhealthy');
    expect(s.faultTolerance).toBe(0);
    const unreachable = observe(w, before, true);
    const u = buildStatus(unreachable, plan(unreachable, LATER), LATER);
    expect(u.health).toBe('unknown');
    expect(u.lastProbeTime).toBe(NOW.toISOString());
    expect(byType(u.conditions!, 'Available').status).toBe('Unknown');
  });

  test('statusChanged: identical status is not rewritten; lastProbeTime alone only once it is a minute old', () => {
    const w = healthyWorld();
    const a = buildStatus(observe(w), plan(observe(w), NOW), NOW);
    const withA = observe(w, a);
    const t1 = new Date(NOW.getTime() + 10_000);
    const b = buildStatus(withA, plan(withA, t1), t1);
    expect(statusChanged(a, b)).toBe(false);
    const t2 = new Date(NOW.getTime() + 61_000);
    expect(statusChanged(a, buildStatus(withA, plan(withA, t2), t2))).toBe(true);
    w.pods[1]!.running = false;
    const degraded = observe(w, a);
    expect(statusChanged(a, buildStatus(degraded, plan(degraded, t1), t1))).toBe(true);
    expect(statusChanged(undefined, a)).toBe(true);
  });

  test('a quorum-loss recovery is recorded for good (and bounded), so its token never acts twice', () => {
    const obs = observe(healthyWorld());
    const forced = {
      token: 't1',
      shard: 0,
      member: 'demo-0',
      commit: 118,
      lastIndex: 120,
      lastLogTerm: 3,
      at: NOW.toISOString(),
    };
    const first = buildStatus(obs, plan(obs, NOW), NOW, undefined, forced);
    expect(first.quorumRecoveries).toEqual([forced]);
    const later = observe(healthyWorld(), first);
    expect(buildStatus(later, plan(later, LATER), LATER).quorumRecoveries).toEqual([forced]);
    let status = first;
    for (let i = 0; i < 20; i++) {
      const o = observe(healthyWorld(), status);
      status = buildStatus(o, plan(o, LATER), LATER, undefined, { ...forced, token: `t${i + 2}` });
    }
    expect(status.quorumRecoveries).toHaveLength(16);
    expect(status.quorumRecoveries?.at(-1)?.token).toBe('t21');
  });
});
