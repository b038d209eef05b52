import { describe, expect, test } from '@jest/globals';
import { RECOVER_QUORUM_LOSS_ANNOTATION } from '../api/raftcluster.js';
import type { ObservedCluster } from '../model/observed.js';
import { baseSpec, observe, type SimWorld, convergedWorld } from '../../testing/sim-world.js';
import { plan } from './plan.js';
import { mostUpToDate } from './recover-quorum-loss.js';

const NOW = new Date('2026-01-01T00:00:00Z');

const healthyWorld = (replicas = 3): SimWorld => convergedWorld(baseSpec({ replicas }), NOW);

/** The world with `down` pods gone for good, the annotation set to `token`, and these logs on the survivors. */
function afterLoss(
  w: SimWorld,
  down: string[],
  token: string | undefined,
  logs: Record<string, { lastLogTerm: number; lastIndex: number; commit: number }> = {},
): ObservedCluster {
  for (const p of w.pods) if (down.includes(p.name)) p.running = false;
  const o = observe(w);
  o.shards[0]!.pods = o.shards[0]!.pods.map((p) =>
    p.identity !== undefined && logs[p.name] !== undefined
      ? { ...p, identity: { ...p.identity, ...logs[p.name] } }
      : p,
  );
  if (token !== undefined) o.cluster.metadata.annotations = { [RECOVER_QUORUM_LOSS_ANNOTATION]: token };
  return o;
}

describe('recovery from permanent quorum loss (opt-in)', () => {
  test('without the annotation a shard that lost its quorum only waits for a leader', () => {
    const p = plan(afterLoss(healthyWorld(), ['demo-1', 'demo-2'], undefined), NOW);
    expect(p.action.type).toBe('Wait');
    expect(p.operation?.step).not.toBe('ForceNewCluster');
  });

  test('with it, the only reachable voter restarts as a one-voter cluster keeping its data', () => {
    const w = healthyWorld();
    const o = afterLoss(w, ['demo-1', 'demo-2'], '2026-12-07', {
      'demo-0': { lastLogTerm: 3, lastIndex: 120, commit: 118 },
    });
    const p = plan(o, NOW);
    expect(p.action).toEqual({ type: 'ForceNewCluster', shard: 0, member: 'demo-0', token: '2026-12-07' });
    expect(p.operation?.message).toBe(
      'shard 0 lost its quorum (1 of 3 voters reachable); recovery 2026-12-07: restarting demo-0 (last log term 3, ' +
        'index 120, commit 118) as a one-voter cluster that keeps its data; the others rejoin as fresh learners',
    );
  });

  test('of several survivors, the most up-to-date log is kept: last log term first, then last index', () => {
    const w = healthyWorld(5);
    const o = afterLoss(w, ['demo-0', 'demo-3', 'demo-4'], 't', {
      'demo-1': { lastLogTerm: 4, lastIndex: 90, commit: 90 },
      'demo-2': { lastLogTerm: 3, lastIndex: 200, commit: 150 },
    });
    expect(plan(o, NOW).action).toMatchObject({ type: 'ForceNewCluster', member: 'demo-1' });
    const pods = o.shards[0]!.pods.filter((p) => p.identity !== undefined);
    expect(
      mostUpToDate(pods.map((p) => ({ ...p, identity: { ...p.identity!, lastLogTerm: 4 } })))?.name,
    ).toBe('demo-2');
  });

  test('a token already carried out for the shard is not acted on again', () => {
    const w = healthyWorld();
    const o = afterLoss(w, ['demo-1', 'demo-2'], 't1');
    o.cluster.status = {
      quorumRecoveries: [
        {
          token: 't1',
          shard: 0,
          member: 'demo-0',
          commit: 10,
          lastIndex: 10,
          lastLogTerm: 2,
          at: NOW.toISOString(),
        },
      ],
    };
    expect(plan(o, NOW).action.type).toBe('Wait');
    o.cluster.metadata.annotations = { [RECOVER_QUORUM_LOSS_ANNOTATION]: 't2' };
    expect(plan(o, NOW).action.type).toBe('ForceNewCluster');
  });

  test('never while a quorum is reachable: a leader, or an election the reachable voters can win', () => {
    const w = healthyWorld();
    expect(plan(afterLoss(w, [], 't'), NOW).action.type).toBe('Done');
    const electing = afterLoss(healthyWorld(), ['demo-2'], 't');
    const raft = electing.shards[0]!.raft;
    if (raft.kind !== 'members') throw new Error('no member list');
    electing.shards[0]!.raft = { ...raft, leaderId: undefined };
    const p = plan(electing, NOW);
    expect(p.action.type).toBe('Wait');
    expect(p.operation?.step).not.toBe('ForceNewCluster');
  });

  test('paused: the recovery waits like every disruptive step', () => {
    const w = healthyWorld();
    w.spec = { ...w.spec, paused: true };
    const p = plan(afterLoss(w, ['demo-1', 'demo-2'], 't'), NOW);
    expect(p.action.type).toBe('Wait');
    expect(p.operation?.message).toMatch(/^paused: would ForceNewCluster demo-0/);
  });
});
