import { layoutViolations } from './layout.js';
import type { ImportGraph } from './import-graph.js';
import { buildViolations, cycleViolations, importRuleViolations, lockViolations } from './rules.js';

function graph(edges: Record<string, string[]>): ImportGraph {
  const g = new Map<string, Set<string>>();
  for (const [from, to] of Object.entries(edges)) {
    g.set(from, new Set(to));
    for (const t of to) if (!g.has(t)) g.set(t, new Set());
  }
  return g;
}

describe('layout rules catch what they promise to (planted violations)', () => {
  it('flags the operator reaching into node internals, and allows node/shared', () => {
    const v = importRuleViolations(
      graph({
        'operator/src/admin/admin-api.ts': [
          'node/src/cli/failover-client.ts',
          'node/shared/client/failover-client.ts',
        ],
      }),
    );
    expect(v.map((x) => x.detail)).toEqual([
      'operator/src/admin/admin-api.ts → node/src/cli/failover-client.ts',
    ]);
  });

  it('flags shipped code importing e2e or test support; tests may import anything', () => {
    const v = importRuleViolations(
      graph({
        'helm/scripts/start.ts': ['e2e/kube/controlplane/cluster.ts'],
        'node/src/kv/state-machine.ts': ['node/testing/random/seeded-random.ts'],
        'node/src/kv/state-machine.test.ts': ['node/testing/random/seeded-random.ts', 'e2e/smoke/cluster.ts'],
      }),
    );
    expect(v.map((x) => x.detail).sort()).toEqual([
      'helm/scripts/start.ts → e2e/kube/controlplane/cluster.ts',
      'node/src/kv/state-machine.ts → node/testing/random/seeded-random.ts',
    ]);
  });

  it('flags node/shared depending on either side, and the node importing the operator', () => {
    const v = importRuleViolations(
      graph({
        'node/shared/client/failover-client.ts': ['node/src/kv/types.ts'],
        'node/src/main.ts': ['operator/src/api/raftcluster.ts'],
      }),
    );
    expect(v.map((x) => x.rule).sort()).toEqual([
      'node/shared/ imports nothing outside itself',
      'the datastore does not import the operator',
    ]);
  });

  it('finds a two-file cycle and a longer one, not a diamond, and ignores tests beside their module', () => {
    const v = cycleViolations(
      graph({
        'operator/src/health/health.ts': ['operator/src/planner/observed.ts'],
        'operator/src/planner/observed.ts': ['operator/src/health/health.ts'],
        'a.ts': ['b.ts', 'c.ts'],
        'b.ts': ['d.ts'],
        'c.ts': ['d.ts'],
        'x.ts': ['y.ts'],
        'y.ts': ['z.ts'],
        'z.ts': ['x.ts', 'z.test.ts'],
        'z.test.ts': ['z.ts'],
      }),
    );
    expect(v.filter((x) => x.rule === 'no import cycle between files').map((x) => x.detail)).toEqual([
      'operator/src/health/health.ts ↔ operator/src/planner/observed.ts',
      'x.ts ↔ y.ts ↔ z.ts',
    ]);
  });

  it('finds a back-up arrow between folders even when no file imports its way back to itself', () => {
    // The operator's shape before model/: health used the planner's observed types, the planner used health.
    const v = cycleViolations(
      graph({
        'operator/src/health/health.ts': ['operator/src/planner/observed.ts'],
        'operator/src/planner/plan.ts': ['operator/src/health/health.ts', 'operator/src/planner/observed.ts'],
        'operator/src/status/status.ts': ['operator/src/health/health.ts'],
      }),
    );
    expect(v).toEqual([
      { rule: 'no import cycle between folders', detail: 'operator/src/health ↔ operator/src/planner' },
    ]);
  });

  it('flags test support among the build inputs', () => {
    const v = buildViolations([
      'node/src/main.ts',
      'node/src/raft/testing/test-cluster.ts',
      'operator/testing/fakes.ts',
      'node/src/kv/kv.test.ts',
      '.ci/layout/rules.ts',
    ]);
    expect(v.map((x) => x.detail)).toEqual([
      'node/src/raft/testing/test-cluster.ts',
      'operator/testing/fakes.ts',
      'node/src/kv/kv.test.ts',
      '.ci/layout/rules.ts',
    ]);
  });

  it("flags a lock file without another platform's optional package, resolving nested ones as npm does", () => {
    const lock = {
      packages: {
        '': {},
        'node_modules/@swc/core': {
          optionalDependencies: { '@swc/core-linux-x64-gnu': '1.0.0', '@swc/core-darwin-x64': '1.0.0' },
        },
        'node_modules/@swc/core-linux-x64-gnu': {},
        'node_modules/a/node_modules/b': { optionalDependencies: { c: '1.0.0' } },
        'node_modules/a/node_modules/c': {},
      },
    };
    expect(lockViolations(lock).map((x) => x.detail)).toEqual([
      '@swc/core-darwin-x64 (optional dependency of node_modules/@swc/core)',
    ]);
  });
});

describe('this repository', () => {
  it('keeps every layout rule (operator ↛ node internals, shipped ↛ e2e/test support, no cycles, lock complete)', () => {
    expect(layoutViolations()).toEqual([]);
  });
});
