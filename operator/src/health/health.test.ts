import type { RaftMember, RaftView } from '../model/observed.js';
import { clusterHealth, maxFailures, quorum, shardHealth } from './health.js';

function view(up: boolean[], opts: { leader?: boolean; learners?: number } = {}): RaftView {
  const members: RaftMember[] = up.map((healthy, i) => ({
    name: `demo-${i}`,
    id: String(100 + i),
    role: 'voter',
    healthy,
    matchIndex: 10,
    incarnation: 1,
  }));
  for (let i = 0; i < (opts.learners ?? 0); i++) {
    members.push({
      name: `demo-l${i}`,
      id: String(200 + i),
      role: 'learner',
      healthy: false,
      matchIndex: 0,
      incarnation: 1,
    });
  }
  return { kind: 'members', leaderId: opts.leader === false ? undefined : '100', lastIndex: 10, members };
}

describe('quorum math (N = 2f+1)', () => {
  test.each([
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [9, 5, 4],
  ])('N=%i: quorum %i, f %i', (n, q, f) => {
    expect(quorum(n)).toBe(q);
    expect(maxFailures(n)).toBe(f);
  });
});

describe('shardHealth', () => {
  test.each<[string, boolean[], string, number]>([
    ['all 3 up', [true, true, true], 'healthy', 1],
    ['1 of 3 down', [true, true, false], 'degraded', 0],
    ['2 of 3 down', [true, false, false], 'unhealthy', 0],
    ['all 5 up', [true, true, true, true, true], 'healthy', 2],
    ['2 of 5 down', [true, true, true, false, false], 'degraded', 0],
    ['1 of 5 down', [true, true, true, true, false], 'degraded', 1],
    ['3 of 5 down', [true, true, false, false, false], 'unhealthy', 0],
    ['single member up', [true], 'healthy', 0],
    ['single member down', [false], 'unhealthy', 0],
    ['2 of 4 down', [true, true, false, false], 'unhealthy', 0],
  ])('%s', (_name, up, health, ft) => {
    const h = shardHealth(view(up), undefined);
    expect(h.health).toBe(health);
    expect(h.faultTolerance).toBe(ft);
  });

  test('learners do not count towards the voters', () => {
    const h = shardHealth(view([true, true, true], { learners: 2 }), undefined);
    expect(h).toMatchObject({ health: 'healthy', voters: 3 });
  });

  test('no leader means unhealthy even if members answer', () => {
    expect(shardHealth(view([true, true, true], { leader: false }), undefined).health).toBe('unhealthy');
  });

  test('an unreachable shard is never healthy, and says when it was last reached', () => {
    const h = shardHealth({ kind: 'unreachable', reason: 'connection refused' }, '2026-01-01T00:00:00Z');
    expect(h.health).toBe('unknown');
    expect(h.faultTolerance).toBe(0);
    expect(h.message).toContain('2026-01-01T00:00:00Z');
    expect(shardHealth({ kind: 'unreachable', reason: 'x' }, undefined).message).toContain('never reached');
  });
});

describe('clusterHealth', () => {
  test('worst shard wins, unhealthy worse than unknown', () => {
    const healthy = shardHealth(view([true, true, true]), undefined);
    const degraded = shardHealth(view([true, true, false]), undefined);
    const unknown = shardHealth({ kind: 'unreachable', reason: 'x' }, undefined);
    const unhealthy = shardHealth(view([false, false, true]), undefined);
    expect(clusterHealth([healthy, degraded])).toEqual({ health: 'degraded', faultTolerance: 0 });
    expect(clusterHealth([healthy, unknown]).health).toBe('unknown');
    expect(clusterHealth([unhealthy, unknown]).health).toBe('unhealthy');
    expect(clusterHealth([]).health).toBe('unknown');
  });
});
