import { describe, expect, test } from '@jest/globals';
import type { ObservedCluster } from '../model/observed.js';
import { apply, baseSpec, observe, tick, type SimWorld, convergedWorld } from '../../testing/sim-world.js';
import { plan } from './plan.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

const healthyWorld = (): SimWorld =>
  convergedWorld(baseSpec({ recovery: { replaceUnschedulableAfter: '2m' } }), T0);

/** demo-1's machine is gone: its pod is back, Pending, pinned by its volume to a node that no longer exists. */
/** `gone` null: the volume's node still exists (the pod is only unschedulable). */
function lostMember(w: SimWorld, gone: string | null = 'node-2'): ObservedCluster {
  const pod = w.pods.find((p) => p.name === 'demo-1')!;
  pod.running = false;
  const o = observe(w);
  o.shards[0]!.pods = o.shards[0]!.pods.map((p) =>
    p.name === 'demo-1'
      ? {
          ...p,
          phase: 'Pending',
          problem: 'Unschedulable: 0/2 nodes are available: 2 node(s) had volume node affinity conflict',
          unschedulableSince: T0.toISOString(),
          ...(gone !== null ? { volumeNodeGone: gone } : {}),
        }
      : p,
  );
  return o;
}

describe('replacing a member whose volume’s node is gone', () => {
  test('waits out spec.recovery.replaceUnschedulableAfter, saying when it will act', () => {
    const w = healthyWorld();
    const p = plan(lostMember(w), at(30));
    expect(p.action.type).toBe('Wait');
    expect(p.operation).toMatchObject({ type: 'Recover', step: 'WaitBeforeReplacing', member: 'demo-1' });
    expect(p.operation?.message).toBe(
      'demo-1 cannot be scheduled: its volume is on node node-2, which is gone; replacing it in 90s ' +
        '(spec.recovery.replaceUnschedulableAfter 2m)',
    );
  });

  test('then fences it (Raft id removed), deletes its claim, re-creates its pod; a fresh learner joins', () => {
    const w = healthyWorld();
    const id = w.members.find((m) => m.name === 'demo-1')!.id;
    const remove = plan(lostMember(w), at(121));
    expect(remove.action).toEqual({ type: 'RemoveMember', shard: 0, id });
    expect(remove.operation).toMatchObject({ step: 'RemoveLostMember', memberId: id });
    apply(w, remove.action);
    const claim = plan(lostMember(w), at(122));
    expect(claim.action).toEqual({ type: 'DeletePVC', shard: 0, name: 'data-demo-1' });
    apply(w, claim.action);
    const o = lostMember(w);
    o.shards[0]!.pvcs = o.shards[0]!.pvcs.map((v) => (v.ordinal === 1 ? { ...v, deleting: true } : v));
    const pod = plan(o, at(123));
    expect(pod.action).toEqual({ type: 'DeletePod', shard: 0, name: 'demo-1' });
    // The pod comes back on a fresh volume (the world's StatefulSet re-creates both): the usual scale-up steps
    // add it as a learner and promote it.
    apply(w, pod.action);
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      tick(w);
      const next = plan(observe(w), at(130 + i));
      if (next.action.type === 'Done') break;
      seen.push(next.action.type);
      apply(w, next.action);
    }
    expect(seen).toEqual(expect.arrayContaining(['AddLearner', 'PromoteLearner']));
    const replaced = w.members.find((m) => m.name === 'demo-1')!;
    expect(replaced.id).not.toBe(id);
    expect(replaced.role).toBe('voter');
    expect(w.violations).toEqual([]);
  });

  test('never at the cost of quorum: while the leader still counts it among the quorum, it waits', () => {
    const w = healthyWorld();
    const o = lostMember(w);
    // The leader's view lags: demo-1 still looks up to it, and demo-2 is down. Removing demo-1 would leave one
    // healthy voter of two.
    const raft = o.shards[0]!.raft;
    if (raft.kind !== 'members') throw new Error('no member list');
    raft.members = raft.members.map((m) => ({ ...m, healthy: m.name !== 'demo-2' }));
    const p = plan(o, at(600));
    expect(p.action.type).toBe('Wait');
    expect(p.operation?.message).toMatch(/removing it from Raft now would cost the shard its quorum/);
  });

  test('a pod that is only unschedulable (its volume’s node exists) is never replaced', () => {
    const w = healthyWorld();
    const p = plan(lostMember(w, null), at(3600));
    expect(p.action.type).toBe('Wait');
    expect(p.operation).toMatchObject({ step: 'WaitMember', member: 'demo-1' });
  });
});
