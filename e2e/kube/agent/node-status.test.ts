import { nodeObject, nodeStatus, nodeStatusDue, type SimulatedNode } from './node-status.js';

const n: SimulatedNode = {
  name: 'node-2',
  podCIDR: '10.244.2.0/24',
  hostIP: '10.244.0.12',
  capacity: { cpu: '4', memory: '8Gi', pods: '110' },
  kubeletPort: 10252,
  zone: 'zone-b',
};

describe('node status', () => {
  it('registers with its pod CIDR and hostname/zone labels', () => {
    const o = nodeObject(n);
    expect(o.spec).toEqual({ podCIDR: '10.244.2.0/24', podCIDRs: ['10.244.2.0/24'] });
    expect(o.metadata.labels?.['kubernetes.io/hostname']).toBe('node-2');
    expect(o.metadata.labels?.['topology.kubernetes.io/zone']).toBe('zone-b');
  });
  it('reports Ready with capacity, addresses and the kubelet port', () => {
    const s = nodeStatus(n, undefined, '2026-01-01T00:00:00Z', 'b');
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
    });
    expect(s.addresses).toEqual([{ type: 'InternalIP', address: '10.244.0.12' }]);
    expect(s.daemonEndpoints?.kubeletEndpoint.Port).toBe(10252);
    expect(s.allocatable?.pods).toBe('110');
  });
  it('keeps lastTransitionTime across heartbeats; writes when stale or after the controller marked it Unknown', () => {
    const s1 = nodeStatus(n, undefined, '2026-01-01T00:00:00Z', 'b');
    const s2 = nodeStatus(n, s1, '2026-01-01T00:00:30Z', 'b');
    expect(s2.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(nodeStatusDue(s1, s2, t0 + 30_000, 60_000)).toBe(false);
    expect(nodeStatusDue(s1, s2, t0 + 60_000, 60_000)).toBe(true);
    const unknown = {
      ...s1,
      conditions: s1.conditions?.map((c) => (c.type === 'Ready' ? { ...c, status: 'Unknown' as const } : c)),
    };
    expect(nodeStatusDue(unknown, s2, t0 + 1_000, 60_000)).toBe(true);
    expect(nodeStatusDue(undefined, s2, t0, 60_000)).toBe(true);
  });
});
