import type { ContainerStatus, Pod } from './kube-types.js';
import { computePodStatus, podPhase, sameStatus } from './pod-status.js';

function cs(
  name: string,
  state: ContainerStatus['state'],
  extra: Partial<ContainerStatus> = {},
): ContainerStatus {
  return {
    name,
    state,
    lastState: {},
    ready: false,
    restartCount: 0,
    image: 'x:1',
    imageID: 'local://x',
    started: false,
    ...extra,
  };
}
const running = (ready: boolean): ContainerStatus =>
  cs('app', { running: { startedAt: '2026-01-01T00:00:00Z' } }, { ready, started: true });

const pod: Pod = {
  metadata: { name: 'p', namespace: 'n', uid: 'u' },
  spec: { containers: [{ name: 'app', image: 'x:1' }] },
  status: {
    phase: 'Pending',
    qosClass: 'BestEffort',
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  },
};

describe('pod phase', () => {
  it('is Pending until init containers finish and while a container waits for its first start', () => {
    expect(podPhase('Always', false, [running(true)])).toBe('Pending');
    expect(podPhase('Always', true, [cs('a', { waiting: { reason: 'ErrImagePull' } })])).toBe('Pending');
  });
  it('is Running while a crashed container waits for back-off under Always', () => {
    const crashed = cs(
      'a',
      { waiting: { reason: 'CrashLoopBackOff' } },
      { lastState: { terminated: { exitCode: 1 } }, restartCount: 3 },
    );
    expect(podPhase('Always', true, [crashed])).toBe('Running');
  });
  it('ends Succeeded or Failed when nothing restarts', () => {
    expect(podPhase('Never', true, [cs('a', { terminated: { exitCode: 0 } })])).toBe('Succeeded');
    expect(podPhase('Never', true, [cs('a', { terminated: { exitCode: 2 } })])).toBe('Failed');
    expect(podPhase('OnFailure', true, [cs('a', { terminated: { exitCode: 0 } })])).toBe('Succeeded');
    expect(podPhase('OnFailure', true, [cs('a', { terminated: { exitCode: 1 } })])).toBe('Running');
  });
});

describe('pod status', () => {
  const base = {
    hostIP: '10.244.0.11',
    podIP: '10.244.1.2',
    sandboxReady: true,
    initialized: true,
    initContainerStatuses: [],
  };

  it('reports Ready only when every container is ready, with the unready names', () => {
    const s = computePodStatus(pod, {
      ...base,
      containerStatuses: [running(false)],
      nowIso: '2026-01-01T00:00:01Z',
    });
    expect(s.phase).toBe('Running');
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [app]',
    });
    expect(s.podIPs).toEqual([{ ip: '10.244.1.2' }]);
    expect(s.qosClass).toBe('BestEffort');
    expect(s.conditions?.find((c) => c.type === 'PodScheduled')?.lastTransitionTime).toBe(
      '2026-01-01T00:00:00Z',
    );
  });
  it('keeps lastTransitionTime while a condition does not flip, so a recomputation is not a change', () => {
    const s1 = computePodStatus(pod, {
      ...base,
      containerStatuses: [running(true)],
      nowIso: '2026-01-01T00:00:01Z',
    });
    const s2 = computePodStatus(
      { ...pod, status: s1 },
      { ...base, containerStatuses: [running(true)], nowIso: '2026-01-01T00:09:00Z' },
    );
    expect(sameStatus(s1, s2)).toBe(true);
    const s3 = computePodStatus(
      { ...pod, status: s2 },
      { ...base, containerStatuses: [running(false)], nowIso: '2026-01-01T00:10:00Z' },
    );
    expect(sameStatus(s2, s3)).toBe(false);
    expect(s3.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:10:00Z');
    expect(s3.conditions?.find((c) => c.type === 'Initialized')?.lastTransitionTime).toBe(
      '2026-01-01T00:00:01Z',
    );
  });
  it('sameStatus ignores key order, nulls and condition order', () => {
    expect(
      sameStatus(
        {
          phase: 'Running',
          podIP: '1',
          conditions: [
            { type: 'A', status: 'True' },
            { type: 'B', status: 'True', lastProbeTime: null },
          ],
        },
        {
          podIP: '1',
          phase: 'Running',
          conditions: [
            { type: 'B', status: 'True' },
            { type: 'A', status: 'True' },
          ],
        },
      ),
    ).toBe(true);
    expect(sameStatus({ phase: 'Running' }, { phase: 'Pending' })).toBe(false);
  });
  it('is not Initialized while an init container is incomplete', () => {
    const init = cs('init', { running: {} }, { started: true });
    const s = computePodStatus(pod, {
      ...base,
      initialized: false,
      initContainerStatuses: [init],
      containerStatuses: [cs('app', { waiting: { reason: 'PodInitializing' } })],
      nowIso: 'T',
    });
    expect(s.phase).toBe('Pending');
    expect(s.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      message: 'containers with incomplete status: [init]',
    });
  });
});
