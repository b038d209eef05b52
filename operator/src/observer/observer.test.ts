import { AdminError } from '../admin/admin-api.js';
import { buildStatefulSet } from '../children/statefulset.js';
import { childrenSpecHash } from '../children/spec-hash.js';
import { plan } from '../planner/plan.js';
import {
  FakeAdmin,
  testCluster,
  testMember,
  testObjects,
  testPod,
  testPvc,
  testStatus,
} from '../../testing/fakes.js';
import type { V1Pod } from '@kubernetes/client-node';
import {
  adminTargets,
  incarnationNumber,
  mapRaftView,
  mapPvc,
  mapStatefulSet,
  observeCluster,
  podProblem,
  storageClassOf,
} from './map.js';
import { observe } from './observer.js';

const INC = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** A healthy 3-member shard answering at the pods' IPs: demo-0 leads. */
function healthyAdmin(): FakeAdmin {
  const admin = new FakeAdmin();
  for (let o = 0; o < 3; o++) {
    const name = `demo-${o}`;
    admin.statuses.set(
      `10.244.1.${10 + o}:2379`,
      testStatus(name, { role: o === 0 ? 'leader' : 'follower' }),
    );
  }
  admin.memberLists.set('10.244.1.10:2379', [
    testMember('demo-0', { role: 'leader', matchIndex: 120, incarnation: INC, version: '1.0.0' }),
    testMember('demo-1', { matchIndex: 118 }),
    testMember('demo-2', { matchIndex: 90, healthy: false }),
  ]);
  return admin;
}

describe('observer mapping (informer objects + admin answers → ObservedCluster)', () => {
  test('a running cluster: children, StatefulSet state, pods with identities, volumes, the leader view', async () => {
    const cluster = testCluster();
    const objects = testObjects(cluster, 3);
    const admin = healthyAdmin();
    const { observed, adminAddresses } = await observe(cluster, objects, admin);
    expect(observed.childrenExist).toBe(true);
    const shard = observed.shards[0]!;
    expect(shard.statefulSet).toEqual({
      replicas: 3,
      image: 'raftstore/node:1.0.0',
      initialClusterState: 'new',
      childrenHash: childrenSpecHash(cluster.spec),
      volumeSize: '1Gi',
    });
    expect(shard.pods.map((p) => [p.name, p.ordinal, p.phase, p.ready, p.deleting])).toEqual([
      ['demo-0', 0, 'Running', true, false],
      ['demo-1', 1, 'Running', true, false],
      ['demo-2', 2, 'Running', true, false],
    ]);
    expect(shard.pods[1]!.identity).toEqual({
      id: 'demo-1',
      incarnation: incarnationNumber(INC),
      joined: true,
      // How up to date its log is: what a quorum-loss recovery chooses by.
      lastLogTerm: 3,
      lastIndex: 100,
      commit: 100,
      // What the version policy reads: the member's own version and data formats.
      version: '1.0.0',
      dataFormat: 2,
      maxDataFormat: 2,
    });
    expect(shard.pvcs.map((v) => v.name)).toEqual(['data-demo-0', 'data-demo-1', 'data-demo-2']);
    expect(shard.raft).toEqual({
      kind: 'members',
      leaderId: 'demo-0',
      lastIndex: 120,
      members: [
        {
          name: 'demo-0',
          id: 'demo-0',
          role: 'voter',
          healthy: true,
          matchIndex: 120,
          incarnation: incarnationNumber(INC),
          version: '1.0.0',
        },
        // incarnation and version of the followers come from their own Status (same Raft id)
        {
          name: 'demo-1',
          id: 'demo-1',
          role: 'voter',
          healthy: true,
          matchIndex: 118,
          incarnation: incarnationNumber(INC),
          version: '1.0.0',
        },
        {
          name: 'demo-2',
          id: 'demo-2',
          role: 'voter',
          healthy: false,
          matchIndex: 90,
          incarnation: incarnationNumber(INC),
          version: '1.0.0',
        },
      ],
    });
    // the leader is asked first, for the member list and for the executor's calls
    expect(admin.calls.filter((c) => c.op === 'memberList').map((c) => c.address)).toEqual([
      '10.244.1.10:2379',
    ]);
    expect(adminAddresses.get(0)![0]).toBe('10.244.1.10:2379');
    // and the planner reads it: one founder is not healthy yet
    expect(plan(observed, new Date()).action).toMatchObject({
      type: 'Wait',
      reason: 'shard 0: 2/3 founders up',
    });
  });

  test('nothing answers: the Raft view is unreachable with the reasons, never a guess', async () => {
    const cluster = testCluster();
    const admin = new FakeAdmin();
    const { observed } = await observe(cluster, testObjects(cluster, 3), admin);
    const raft = observed.shards[0]!.raft;
    expect(raft.kind).toBe('unreachable');
    expect(raft.kind === 'unreachable' && raft.reason).toMatch(
      /MemberList at 10\.244\.1\.10:2379: UNAVAILABLE/,
    );
    // bounded: 3 Status calls, at most 3 MemberList attempts
    expect(admin.calls.filter((c) => c.op === 'memberList').length).toBeLessThanOrEqual(3);
  });

  test('no running pod: unreachable, and no call is made', async () => {
    const cluster = testCluster();
    const objects = testObjects(cluster, 0);
    const admin = new FakeAdmin();
    const { observed } = await observe(cluster, objects, admin);
    expect(observed.shards[0]!.raft).toEqual({ kind: 'unreachable', reason: 'no running member pod to ask' });
    expect(admin.calls).toEqual([]);
  });

  test('the leader down: another member answers (it forwards), the dead leader is not asked twice', async () => {
    const cluster = testCluster();
    const admin = healthyAdmin();
    const list = admin.memberLists.get('10.244.1.10:2379')!;
    admin.memberLists.delete('10.244.1.10:2379');
    admin.statuses.delete('10.244.1.10:2379');
    admin.memberLists.set('10.244.1.11:2379', list);
    const { observed } = await observe(cluster, testObjects(cluster, 3), admin);
    expect(observed.shards[0]!.raft.kind).toBe('members');
    expect(observed.shards[0]!.pods[0]!.identity).toBeUndefined();
  });

  test('a fresh pod (never joined) and a wiped one (new id) are told apart from members', () => {
    const cluster = testCluster();
    const statuses = new Map([
      [
        'demo-1',
        testStatus('demo-1', {
          id: 'n7',
          incarnation: 'ffff00000000aaaa',
          isMember: false,
          term: 0,
          lastIndex: 0,
        }),
      ],
      ['demo-2', testStatus('demo-2', { id: 'x9', isMember: false, term: 4, lastIndex: 50 })],
    ]);
    const view = mapRaftView(
      {
        ok: true,
        answeredBy: 'demo-0',
        members: [testMember('demo-0', { role: 'leader' }), testMember('demo-1')],
      },
      statuses,
    );
    const observed = observeCluster(
      cluster,
      testObjects(cluster, 3),
      new Map([[0, { statuses, memberList: { ok: true, answeredBy: 'demo-0', members: [] } }]]),
    );
    const pods = observed.shards[0]!.pods;
    expect(pods[1]!.identity).toMatchObject({ id: 'n7', incarnation: 0xffff00000000, joined: false });
    expect(pods[2]!.identity).toMatchObject({ id: 'x9', incarnation: incarnationNumber(INC), joined: true });
    // demo-1's pod answers with another id: the member keeps the leader's (empty) incarnation, so the planner fences it
    expect(view.kind === 'members' && view.members[1]!.incarnation).toBe(0);
  });

  test('an answer from a different member (stale IP) is no identity', () => {
    const cluster = testCluster();
    const statuses = new Map([['demo-0', testStatus('demo-7')]]);
    const observed = observeCluster(
      cluster,
      testObjects(cluster, 1),
      new Map([[0, { statuses, memberList: { ok: false, reason: 'x' } }]]),
    );
    expect(observed.shards[0]!.pods[0]!.identity).toBeUndefined();
  });

  test('objects not owned by this cluster, other shards, and foreign names are ignored', () => {
    const cluster = testCluster({ shards: 2 });
    const objects = testObjects(cluster, 2);
    const foreign = {
      ...objects.statefulSets[1]!,
      metadata: { ...objects.statefulSets[1]!.metadata, ownerReferences: [] },
    };
    const odd = testPod(cluster, 0, 1);
    odd.metadata!.name = 'demo-x';
    const observed = observeCluster(
      cluster,
      { ...objects, statefulSets: [objects.statefulSets[0]!, foreign], pods: [...objects.pods, odd] },
      new Map(),
    );
    expect(observed.shards.map((s) => s.statefulSet !== undefined)).toEqual([true, false]);
    expect(observed.shards[1]!.pods.map((p) => p.name)).toEqual(['demo-s1-0', 'demo-s1-1']);
    expect(observed.shards[0]!.pods.map((p) => p.name)).toEqual(['demo-0', 'demo-1']);
    expect(observed.shards[0]!.raft).toEqual({ kind: 'unreachable', reason: 'not probed' });
  });

  test('missing children: a missing PDB or Service means childrenExist=false', () => {
    const cluster = testCluster();
    const objects = testObjects(cluster, 0);
    expect(observeCluster(cluster, { ...objects, pdbs: [] }, new Map()).childrenExist).toBe(false);
    expect(
      observeCluster(cluster, { ...objects, services: objects.services.slice(1) }, new Map()).childrenExist,
    ).toBe(false);
    // Every shard's own Service too (a cluster made before they existed gets them applied).
    const withoutShardService = objects.services.filter((s) => s.metadata?.name !== 'demo-shard-0');
    expect(withoutShardService.length).toBe(objects.services.length - 1);
    expect(
      observeCluster(cluster, { ...objects, services: withoutShardService }, new Map()).childrenExist,
    ).toBe(false);
  });

  test('a shard’s slots are what its leader reports; without a leader they are unknown', async () => {
    const cluster = testCluster();
    const objects = testObjects(cluster, 3);
    const admin = healthyAdmin();
    admin.statuses.set(
      '10.244.1.10:2379',
      testStatus('demo-0', { role: 'leader', slotsOwned: 2048, slotsMoving: 16, slotMapEpoch: 3 }),
    );
    const { observed } = await observe(cluster, objects, admin);
    expect(observed.shards[0]!.slots).toEqual({ owned: 2048, moving: 16, epoch: 3 });
    admin.statuses.set('10.244.1.10:2379', testStatus('demo-0', { role: 'follower' }));
    expect((await observe(cluster, objects, admin)).observed.shards[0]!.slots).toBeUndefined();
  });

  test('slot tables are read from each leader only when there is more than one shard (or soon will be)', async () => {
    const one = testCluster();
    const objects = testObjects(one, 3);
    const admin = healthyAdmin();
    const table = { epoch: 4, records: [] };
    admin.slotTables.set('10.244.1.10:2379', table);
    const single = await observe(one, objects, admin);
    expect(single.observed.shards[0]!.slotTable).toBeUndefined();
    expect(admin.calls.filter((c) => c.op === 'slotTable')).toEqual([]);
    // Patched to two shards: shard 0's table is read from its leader; shard 1 has no pod yet, so none.
    const grown = await observe(testCluster({ shards: 2 }), objects, admin);
    expect(grown.observed.shards.map((s) => s.slotTable)).toEqual([table, undefined]);
    expect(admin.calls.filter((c) => c.op === 'slotTable').map((c) => c.address)).toEqual([
      '10.244.1.10:2379',
    ]);
  });

  test('a shard beyond spec.shards whose StatefulSet still exists is observed until it is retired', () => {
    const three = testCluster({ shards: 3 });
    const objects = testObjects(three, 1);
    const observed = observeCluster(testCluster({ shards: 2 }), objects, new Map());
    expect(observed.shards.map((s) => [s.shard, s.statefulSet !== undefined])).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ]);
    expect(observed.bootstrapShards).toBe(3);
    // Its PDB and Service are not required: retiring deletes them along with its StatefulSet.
    expect(observed.childrenExist).toBe(true);
  });

  test('deleting pods and volumes are marked; pending pods are not asked', () => {
    const cluster = testCluster();
    const objects = testObjects(cluster, 0);
    const pods = [
      testPod(cluster, 0, 0, { deleting: true }),
      testPod(cluster, 0, 1, { phase: 'Pending', ip: '' }),
    ];
    const observed = observeCluster(
      cluster,
      { ...objects, pods, pvcs: [testPvc(cluster, 0, 0, true)] },
      new Map(),
    );
    expect(observed.shards[0]!.pods.map((p) => [p.deleting, p.phase])).toEqual([
      [true, 'Running'],
      [false, 'Pending'],
    ]);
    expect(observed.shards[0]!.pvcs[0]!.deleting).toBe(true);
    expect(adminTargets(cluster, { ...objects, pods }, 0, false).map((t) => t.address)).toEqual([
      '10.244.1.10:2379',
    ]);
    expect(adminTargets(cluster, { ...objects, pods }, 0, true).map((t) => t.address)).toEqual([
      'demo-0.demo-peer.db.svc.cluster.local:2379',
    ]);
  });

  test('why a member pod cannot start: the kubelet’s waiting reason, the scheduler’s refusal, a failed pod', () => {
    const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'demo-1' }, status });
    const waiting = (reason: string, message?: string): V1Pod =>
      pod({
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'node',
            image: 'raftstore/node:9.9.9',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason, ...(message !== undefined ? { message } : {}) } },
          },
        ],
      });
    expect(podProblem(waiting('ImagePullBackOff', 'Back-off pulling image'))).toBe(
      'ImagePullBackOff: Back-off pulling image',
    );
    expect(podProblem(waiting('CrashLoopBackOff'))).toBe('CrashLoopBackOff');
    expect(
      podProblem(
        pod({
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/3 nodes are available',
            },
          ],
        }),
      ),
    ).toBe('Unschedulable: 0/3 nodes are available');
    expect(podProblem(pod({ phase: 'Failed', reason: 'Evicted' }))).toBe('Failed: Evicted');
    // Starting normally (ContainerCreating) or running: nothing to report.
    expect(podProblem(waiting('ContainerCreating'))).toBeUndefined();
    expect(podProblem(pod({ phase: 'Running' }))).toBeUndefined();
  });

  test('StatefulSet state: initial cluster state from the env, founders from the annotation', () => {
    const cluster = testCluster();
    const sts = buildStatefulSet(cluster, {
      shard: 0,
      replicas: 4,
      initialClusterState: 'existing',
      founders: 3,
      bootstrapShards: 1,
    });
    expect(mapStatefulSet(sts)).toEqual({
      replicas: 4,
      image: 'raftstore/node:1.0.0',
      initialClusterState: 'existing',
      childrenHash: childrenSpecHash(cluster.spec),
      founders: 3,
      bootstrapShards: 1,
      volumeSize: '1Gi',
    });
  });

  test('a failing Status with a non-transient error is still only a missing identity', async () => {
    const cluster = testCluster();
    const admin = healthyAdmin();
    admin.statuses.delete('10.244.1.12:2379');
    admin.failures.set('10.244.1.12:2379', new AdminError('Status: FAILED_PRECONDITION: wrong shard', 9));
    const { observed } = await observe(cluster, testObjects(cluster, 3), admin);
    expect(observed.shards[0]!.pods[2]!.identity).toBeUndefined();
    expect(observed.shards[0]!.raft.kind).toBe('members');
  });
});

describe('withPodEvidence', () => {
  const cluster = testCluster();
  const list = {
    ok: true as const,
    answeredBy: 'demo-0',
    members: [testMember('demo-0', { role: 'leader' }), testMember('demo-1'), testMember('demo-2')],
  };
  const statuses = new Map([
    ['demo-0', testStatus('demo-0', { role: 'leader' })],
    ['demo-1', testStatus('demo-1', { id: 'demo-1-new', isMember: false, term: 0, lastIndex: 0 })],
  ]);
  const healthy = (o: ReturnType<typeof observeCluster>): boolean[] => {
    const raft = o.shards[0]!.raft;
    return raft.kind === 'members' ? raft.members.map((m) => m.healthy) : [];
  };

  test('a wiped member answering under a new id, or a deleting pod, is not healthy whatever the leader says', () => {
    const objects = testObjects(cluster, 3);
    objects.pods[2] = testPod(cluster, 0, 2, { deleting: true });
    const o = observeCluster(cluster, objects, new Map([[0, { statuses, memberList: list }]]));
    expect(healthy(o)).toEqual([true, false, false]);
  });

  test('a member whose Status did not answer keeps the leader’s verdict (the operator may be the one cut off)', () => {
    const o = observeCluster(
      cluster,
      testObjects(cluster, 3),
      new Map([[0, { statuses: new Map([['demo-0', testStatus('demo-0')]]), memberList: list }]]),
    );
    expect(healthy(o)).toEqual([true, true, true]);
  });

  test('without a leader only members that answered their own Status count as healthy', () => {
    const noLeader = { ...list, members: list.members.map((m) => ({ ...m, role: 'follower' as const })) };
    const o = observeCluster(
      cluster,
      testObjects(cluster, 3),
      new Map([[0, { statuses: new Map([['demo-0', testStatus('demo-0')]]), memberList: noLeader }]]),
    );
    expect(healthy(o)).toEqual([true, false, false]);
  });
});

describe('volumes and their StorageClass', () => {
  const cluster = testCluster();

  test('a claim: what it asks for, what it has, its class, a resize under way', () => {
    const pvc = testPvc(cluster, 0, 1);
    pvc.spec = { storageClassName: 'standard', resources: { requests: { storage: '2Gi' } } };
    pvc.status = {
      capacity: { storage: '1Gi' },
      conditions: [
        {
          type: 'FileSystemResizePending',
          status: 'True',
          message: 'waiting for the node to grow the filesystem',
        },
      ],
    };
    expect(mapPvc('demo', 0, pvc)).toEqual({
      name: 'data-demo-1',
      ordinal: 1,
      deleting: false,
      requested: '2Gi',
      capacity: '1Gi',
      storageClassName: 'standard',
      resizeCondition: 'FileSystemResizePending: waiting for the node to grow the filesystem',
    });
  });

  const sc = (
    name: string,
    allow: boolean | undefined,
    isDefault = false,
    created = '2026-01-01T00:00:00Z',
  ) => ({
    metadata: {
      name,
      creationTimestamp: new Date(created),
      ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}),
    },
    provisioner: 'kubernetes.io/host-path',
    ...(allow !== undefined ? { allowVolumeExpansion: allow } : {}),
  });
  const claim = (storageClassName?: string) => ({
    name: 'data-demo-0',
    ordinal: 0,
    deleting: false,
    ...(storageClassName !== undefined ? { storageClassName } : {}),
  });

  test('the class the claims name wins; then the spec’s; then the newest default', () => {
    const classes = [
      sc('standard', true, true, '2026-01-01T00:00:00Z'),
      sc('fast', false),
      sc('newer-default', false, true, '2026-02-01T00:00:00Z'),
    ];
    expect(storageClassOf(cluster, [claim('fast')], classes)).toEqual({
      name: 'fast',
      allowsExpansion: false,
    });
    const named = testCluster({ storage: { size: '1Gi', storageClassName: 'standard' } });
    expect(storageClassOf(named, [claim()], classes)).toEqual({ name: 'standard', allowsExpansion: true });
    expect(storageClassOf(cluster, [], classes)).toEqual({ name: 'newer-default', allowsExpansion: false });
  });

  test('unknown: a class that does not exist, no default, or classes not watched', () => {
    expect(storageClassOf(cluster, [claim('gone')], [sc('standard', true, true)])).toBeUndefined();
    expect(storageClassOf(cluster, [], [sc('standard', true)])).toBeUndefined();
    expect(storageClassOf(cluster, [], undefined)).toBeUndefined();
    // allowVolumeExpansion unset means no.
    expect(storageClassOf(cluster, [claim('x')], [sc('x', undefined)])).toEqual({
      name: 'x',
      allowsExpansion: false,
    });
  });
});

describe('a member pod whose volume’s node is gone', () => {
  test('only unschedulable pods are looked up; a definite answer marks the pod, an error marks nothing', async () => {
    const cluster = testCluster();
    const objects = testObjects(cluster, 3);
    const pending = (name: string): V1Pod => {
      const p = testPod(cluster, 0, Number(name.slice(-1)), { phase: 'Pending' });
      p.spec = {
        ...p.spec!,
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `data-${name}` } }],
      };
      p.status = {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/2 nodes are available: 2 node(s) had volume node affinity conflict',
            lastTransitionTime: new Date('2026-01-01T00:00:00Z'),
          },
        ],
      };
      return p;
    };
    objects.pods[1] = pending('demo-1');
    objects.pods[2] = pending('demo-2');
    for (const c of objects.pvcs) c.spec = { volumeName: `pv-${c.metadata?.name}` };
    const asked: string[] = [];
    const volumes = {
      goneNodeOf: (pv: string): Promise<string | undefined> => {
        asked.push(pv);
        return pv === 'pv-data-demo-1' ? Promise.resolve('node-2') : Promise.reject(new Error('timeout'));
      },
    };
    const { observed } = await observe(cluster, objects, healthyAdmin(), undefined, volumes);
    expect(asked.sort()).toEqual(['pv-data-demo-1', 'pv-data-demo-2']);
    const pods = observed.shards[0]!.pods;
    expect(pods[1]).toMatchObject({
      volumeNodeGone: 'node-2',
      unschedulableSince: '2026-01-01T00:00:00.000Z',
    });
    expect(pods[2]!.volumeNodeGone).toBeUndefined();
    expect(pods[0]!.volumeNodeGone).toBeUndefined();
  });
});
