import type { RaftClusterSpec } from '../api/raftcluster.js';
import { baseSpec } from '../../testing/sim-world.js';
import { childrenSpecHash, memberSpecHash } from './spec-hash.js';

describe('spec hashes', () => {
  const base = baseSpec();

  test('every field that shapes a member pod changes the member hash (and so the children hash)', () => {
    const changes: Partial<RaftClusterSpec>[] = [
      { version: '1.0.1' },
      { image: 'registry.local/raftstore:custom' },
      { resources: { requests: { cpu: '250m' } } },
      { affinity: { nodeAffinity: {} } },
      { tolerations: [{ key: 'dedicated', operator: 'Exists' }] },
      {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
      },
      { nodeSelector: { disk: 'ssd' } },
      { raft: { ...base.raft, electionTicks: 20 } },
      { podTemplate: { annotations: { team: 'storage' } } },
    ];
    for (const change of changes) {
      const spec = { ...base, ...change };
      expect([Object.keys(change)[0], memberSpecHash(spec) !== memberSpecHash(base)]).toEqual([
        Object.keys(change)[0],
        true,
      ]);
      expect(childrenSpecHash(spec)).not.toBe(childrenSpecHash(base));
    }
  });

  test('the Service type and volume retention change the children only; scaling, resharding, pausing neither', () => {
    for (const change of [
      { service: { type: 'NodePort' as const } },
      { pvcRetention: { ...base.pvcRetention, whenDeleted: 'Delete' as const } },
    ]) {
      const spec = { ...base, ...change };
      expect(memberSpecHash(spec)).toBe(memberSpecHash(base));
      expect(childrenSpecHash(spec)).not.toBe(childrenSpecHash(base));
    }
    for (const change of [{ replicas: 5 }, { shards: 3 }, { paused: true }, { storage: { size: '2Gi' } }]) {
      const spec = { ...base, ...change };
      expect(memberSpecHash(spec)).toBe(memberSpecHash(base));
      expect(childrenSpecHash(spec)).toBe(childrenSpecHash(base));
    }
  });

  test('key order and absent optional fields do not matter', () => {
    const a = { ...base, resources: { limits: { memory: '1Gi', cpu: '1' } } };
    const b = { ...base, resources: { limits: { cpu: '1', memory: '1Gi' } }, nodeSelector: undefined };
    expect(memberSpecHash(a)).toBe(memberSpecHash(b));
    expect(memberSpecHash(base)).toMatch(/^[0-9a-f]{16}$/);
  });
});
