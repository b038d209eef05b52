import type { V1StatefulSet } from '@kubernetes/client-node';
import type { Operation } from '../api/raftcluster.js';
import { childrenSpecHash, MEMBER_HASH_ANNOTATION, memberSpecHash } from '../children/spec-hash.js';
import { AdminError } from '../admin/admin-api.js';
import { buildStatefulSet } from '../children/statefulset.js';
import { mapStatefulSet } from '../observer/map.js';
import type { Action } from '../planner/action.js';
import { FakeAdmin, FakeKube, testCluster, testObjects } from '../../testing/fakes.js';
import { Executor } from './executor.js';
import { applyMergePatch, mergePatch } from './merge-patch.js';
import { eventFor, requestsFor } from './requests.js';
import {
  NO_PEER,
  type ExportedKey,
  type ExportPage,
  type SlotGroups,
  type SlotRecord,
  type StepOutcome,
} from '../../../node/shared/sharding/move-driver.js';

const op = (type: Operation['type'], step: string, message: string): Operation => ({
  type,
  step,
  message,
  startedAt: '2026-01-01T00:00:00.000Z',
  shard: 0,
});

describe('requestsFor (action → requests)', () => {
  const cluster = testCluster();
  const objects = testObjects(cluster, 3);

  test('ApplyChildren: every child by server-side apply, existing StatefulSets keep replicas and state', () => {
    const scaled = buildStatefulSet(cluster, {
      shard: 0,
      replicas: 5,
      initialClusterState: 'existing',
      founders: 3,
      bootstrapShards: 1,
    });
    const reqs = requestsFor({ type: 'ApplyChildren' }, testCluster({ version: '2.0.0' }), {
      ...objects,
      statefulSets: [scaled],
    });
    expect(reqs.map((r) => r.kind === 'apply' && r.object.kind)).toEqual([
      'ServiceAccount',
      'Service',
      'Service',
      'Service',
      'PodDisruptionBudget',
      'StatefulSet',
    ]);
    const sts = reqs[5]!.kind === 'apply' ? (reqs[5].object as V1StatefulSet) : undefined;
    expect(mapStatefulSet(sts!)).toEqual({
      replicas: 5,
      image: 'raftstore/node:2.0.0',
      initialClusterState: 'existing',
      // The spec it was applied from: the planner compares it with the spec's to find a template behind.
      childrenHash: childrenSpecHash(testCluster({ version: '2.0.0' }).spec),
      founders: 3,
      bootstrapShards: 1,
      volumeSize: '1Gi',
    });
    // The pod template carries the member hash, which each pod created from it keeps.
    expect(sts!.spec?.template.metadata?.annotations?.[MEMBER_HASH_ANNOTATION]).toBe(
      memberSpecHash(testCluster({ version: '2.0.0' }).spec),
    );
  });

  test('ApplyChildren keeps an existing StatefulSet’s volume size: a larger spec.storage.size cannot block the apply', () => {
    const existing = buildStatefulSet(cluster, {
      shard: 0,
      replicas: 3,
      initialClusterState: 'existing',
      founders: 3,
      bootstrapShards: 1,
    });
    const grown = testCluster({ version: '2.0.0' });
    grown.spec = { ...grown.spec, storage: { size: '5Gi' } };
    const reqs = requestsFor({ type: 'ApplyChildren' }, grown, { ...objects, statefulSets: [existing] });
    const sts = reqs.find((r) => r.kind === 'apply' && r.object.kind === 'StatefulSet');
    const applied = (sts as { object: V1StatefulSet }).object;
    expect(applied.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests).toEqual({ storage: '1Gi' });
    expect(mapStatefulSet(applied).image).toBe('raftstore/node:2.0.0'); // the rest of the change goes through
    // A new shard's StatefulSet takes the spec's size.
    const fresh = requestsFor({ type: 'ApplyChildren' }, grown, { ...objects, statefulSets: [] });
    const created = fresh.find((r) => r.kind === 'apply' && r.object.kind === 'StatefulSet');
    expect(
      (created as { object: V1StatefulSet }).object.spec?.volumeClaimTemplates?.[0]?.spec?.resources
        ?.requests,
    ).toEqual({ storage: '5Gi' });
  });

  test('ApplyChildren on a new cluster: the founders, all at once, founding a new cluster', () => {
    // New: nothing of it exists yet (no StatefulSet, pod or volume).
    const reqs = requestsFor({ type: 'ApplyChildren' }, cluster, {
      ...testObjects(cluster, 0),
      statefulSets: [],
    });
    const sts = reqs.find((r) => r.kind === 'apply' && r.object.kind === 'StatefulSet');
    expect(mapStatefulSet((sts as { object: V1StatefulSet }).object)).toMatchObject({
      replicas: 3,
      initialClusterState: 'new',
      founders: 3,
    });
  });

  test('SetInitialClusterState and ScaleStatefulSet re-apply the whole StatefulSet (one field manager owns it all)', () => {
    const [a] = requestsFor(
      { type: 'SetInitialClusterState', shard: 0, state: 'existing' },
      cluster,
      objects,
    );
    expect(a?.kind === 'apply' && mapStatefulSet(a.object as V1StatefulSet)).toMatchObject({
      replicas: 3,
      initialClusterState: 'existing',
    });
    const [b] = requestsFor({ type: 'ScaleStatefulSet', shard: 0, replicas: 4 }, cluster, objects);
    const sts = b?.kind === 'apply' ? (b.object as V1StatefulSet) : undefined;
    expect(sts?.spec?.replicas).toBe(4);
    expect(sts?.spec?.template.spec?.containers[0]?.env).toBeDefined();
    expect(() =>
      requestsFor({ type: 'ScaleStatefulSet', shard: 0, replicas: 4 }, cluster, {
        ...objects,
        statefulSets: [],
      }),
    ).toThrow(/StatefulSet of shard 0 does not exist/);
  });

  test('deletes carry the uid seen, and are skipped when the object is gone or already going', () => {
    expect(requestsFor({ type: 'DeletePod', shard: 0, name: 'demo-2' }, cluster, objects)).toEqual([
      { kind: 'delete', resource: 'pods', namespace: 'db', name: 'demo-2', uid: 'pod-uid-demo-2' },
    ]);
    expect(requestsFor({ type: 'DeletePod', shard: 0, name: 'demo-9' }, cluster, objects)).toEqual([]);
    expect(requestsFor({ type: 'DeletePVC', shard: 0, name: 'data-demo-1' }, cluster, objects)).toEqual([
      {
        kind: 'delete',
        resource: 'persistentvolumeclaims',
        namespace: 'db',
        name: 'data-demo-1',
        uid: 'pvc-uid-data-demo-1',
      },
    ]);
    const going = objects.pvcs.map((p) => ({
      ...p,
      metadata: { ...p.metadata, deletionTimestamp: new Date() },
    }));
    expect(
      requestsFor({ type: 'DeletePVC', shard: 0, name: 'data-demo-1' }, cluster, { ...objects, pvcs: going }),
    ).toEqual([]);
  });

  test('membership actions become admin calls; Wait and Done nothing', () => {
    const add: Action = {
      type: 'AddLearner',
      shard: 0,
      name: 'demo-3',
      id: 'n1',
      peerAddress: 'demo-3.demo-peer.db.svc.cluster.local:2380',
      clientAddress: 'demo-3.demo-peer.db.svc.cluster.local:2379',
    };
    expect(requestsFor(add, cluster, objects)).toEqual([
      {
        kind: 'addLearner',
        shard: 0,
        req: {
          shard: 0,
          name: 'demo-3',
          id: 'n1',
          peerAddress: add.peerAddress,
          clientAddress: add.clientAddress,
        },
      },
    ]);
    expect(requestsFor({ type: 'PromoteLearner', shard: 0, id: 'n1' }, cluster, objects)).toEqual([
      { kind: 'promote', shard: 0, id: 'n1' },
    ]);
    expect(requestsFor({ type: 'RemoveMember', shard: 0, id: 'x' }, cluster, objects)).toEqual([
      { kind: 'removeMember', shard: 0, id: 'x' },
    ]);
    expect(
      requestsFor({ type: 'TransferLeadership', shard: 0, fromId: 'a', toId: 'b' }, cluster, objects),
    ).toEqual([{ kind: 'transferLeadership', shard: 0, toId: 'b' }]);
    expect(requestsFor({ type: 'Wait', reason: 'x', requeueAfterSeconds: 5 }, cluster, objects)).toEqual([]);
    expect(requestsFor({ type: 'Done', requeueAfterSeconds: 30 }, cluster, objects)).toEqual([]);
  });

  test('events: each membership change and upgrade step has its reason; nothing for Wait/Done', () => {
    expect(
      eventFor(
        { type: 'RemoveMember', shard: 0, id: 'x' },
        op('ScaleDown', 'RemoveMember', 'scaling 5→3: removing member demo-4'),
      ),
    ).toEqual({
      type: 'Normal',
      reason: 'MemberRemoved',
      action: 'RemoveMember',
      note: 'scaling 5→3: removing member demo-4',
    });
    expect(
      eventFor({ type: 'DeletePod', shard: 0, name: 'demo-1' }, op('Upgrade', 'DeletePod', 'upgrading'))
        ?.reason,
    ).toBe('UpgradeRestart');
    expect(eventFor({ type: 'ApplyChildren' }, op('Upgrade', 'ApplyChildren', 'rolling out'))?.reason).toBe(
      'UpgradeStarted',
    );
    expect(eventFor({ type: 'Done', requeueAfterSeconds: 30 }, undefined)).toBeUndefined();
  });
});

describe('Executor', () => {
  const cluster = testCluster();
  const objects = testObjects(cluster, 3);
  const addresses = new Map([[0, ['10.0.0.1:2379', '10.0.0.2:2379', '10.0.0.3:2379', '10.0.0.4:2379']]]);

  test('a membership call goes to the first address; a dead member is skipped', async () => {
    const kube = new FakeKube();
    const admin = new FakeAdmin();
    admin.failures.set('10.0.0.1:2379', new AdminError('RemoveMember: UNAVAILABLE', 14));
    const ex = new Executor(kube, admin);
    const o = op('ScaleDown', 'RemoveMember', 'removing demo-3');
    await ex.execute(cluster, { type: 'RemoveMember', shard: 0, id: 'demo-3' }, o, objects, addresses);
    expect(admin.calls.map((c) => c.address)).toEqual(['10.0.0.1:2379', '10.0.0.2:2379']);
    expect(kube.events.map((e) => e.reason)).toEqual(['MemberRemoved']);
  });

  test('a definite refusal is not retried elsewhere; the failure is an error and a Warning event', async () => {
    const kube = new FakeKube();
    const admin = new FakeAdmin();
    admin.failures.set(
      '10.0.0.1:2379',
      new AdminError('Promote: FAILED_PRECONDITION: 500 entries behind', 9),
    );
    const ex = new Executor(kube, admin);
    await expect(
      ex.execute(
        cluster,
        { type: 'PromoteLearner', shard: 0, id: 'n1' },
        op('ScaleUp', 'PromoteLearner', 'promoting demo-3'),
        objects,
        addresses,
      ),
    ).rejects.toThrow(/Promote on demo shard 0 failed: Promote: FAILED_PRECONDITION/);
    expect(admin.calls).toHaveLength(1);
    expect(kube.events).toEqual([
      expect.objectContaining({
        type: 'Warning',
        reason: 'StepFailed',
        note: expect.stringMatching(/^promoting demo-3 failed:/) as unknown,
      }),
    ]);
  });

  test('bounded: at most 3 members tried; no address at all is a clear error', async () => {
    const admin = new FakeAdmin();
    for (const a of addresses.get(0)!)
      admin.failures.set(a, new AdminError(`RemoveMember at ${a}: UNAVAILABLE`, 14));
    const ex = new Executor(new FakeKube(), admin);
    await expect(
      ex.execute(cluster, { type: 'RemoveMember', shard: 0, id: 'x' }, undefined, objects, addresses),
    ).rejects.toThrow(/UNAVAILABLE/);
    expect(admin.calls).toHaveLength(3);
    await expect(
      ex.execute(cluster, { type: 'RemoveMember', shard: 0, id: 'x' }, undefined, objects, new Map()),
    ).rejects.toThrow(/no member address to call/);
  });

  test('kube requests: apply and delete go to the KubeWriter', async () => {
    const kube = new FakeKube();
    const ex = new Executor(kube, new FakeAdmin());
    await ex.execute(
      cluster,
      { type: 'ScaleStatefulSet', shard: 0, replicas: 4 },
      undefined,
      objects,
      addresses,
    );
    await ex.execute(cluster, { type: 'DeletePod', shard: 0, name: 'demo-1' }, undefined, objects, addresses);
    expect(kube.applied.map((o) => o.kind)).toEqual(['StatefulSet']);
    expect(kube.deleted).toEqual(['pods db/demo-1 uid=pod-uid-demo-1']);
    kube.applyError = new Error('apply StatefulSet db/demo: 422 Invalid');
    await expect(
      ex.execute(cluster, { type: 'ApplyChildren' }, undefined, objects, addresses),
    ).rejects.toThrow(/422 Invalid/);
  });

  test('a failed Event does not fail the step', async () => {
    const kube = new FakeKube();
    kube.createEvent = () => Promise.reject(new Error('forbidden'));
    const ex = new Executor(kube, new FakeAdmin());
    await expect(
      ex.execute(cluster, { type: 'DeletePod', shard: 0, name: 'demo-1' }, undefined, objects, addresses),
    ).resolves.toBeDefined();
  });
});

describe('mergePatch', () => {
  test('removed keys become null, nested objects recurse, arrays are replaced whole', () => {
    const from = {
      health: 'healthy',
      operation: { type: 'ScaleUp', member: 'demo-3', step: 'A' },
      members: [{ n: 1 }, { n: 2 }],
    };
    const to = {
      health: 'degraded',
      operation: { type: 'ScaleUp', step: 'B' },
      members: [{ n: 1 }],
      leader: 'demo-0',
    };
    const patch = mergePatch(from, to)!;
    expect(patch).toEqual({
      health: 'degraded',
      operation: { member: null, step: 'B' },
      members: [{ n: 1 }],
      leader: 'demo-0',
    });
    expect(applyMergePatch(from, patch)).toEqual(to);
    expect(mergePatch(to, to)).toBeUndefined();
    expect(mergePatch({ operation: { type: 'X' } }, { operation: undefined })).toEqual({ operation: null });
  });
});

/** The slot-move API of two groups as a small state table: enough to watch the executor drive one batch. */
class TableGroups implements SlotGroups {
  readonly state = new Map<number, SlotRecord>([
    [0, { state: 'owned', epoch: 0, peer: NO_PEER }],
    [1, { state: 'absent', epoch: 0, peer: NO_PEER }],
  ]);
  readonly calls: string[] = [];
  status(shard: number): Promise<{ epoch: number; records: SlotRecord[] }> {
    return Promise.resolve({ epoch: 0, records: [this.state.get(shard)!] });
  }
  step(
    shard: number,
    step: string,
    _slots: readonly number[],
    peer: number,
    epoch: number,
  ): Promise<StepOutcome> {
    this.calls.push(`${step}@${shard}`);
    const next: Record<string, SlotRecord['state']> = {
      import: 'importing',
      freeze: 'leaving',
      activate: 'owned',
      release: 'absent',
    };
    this.state.set(shard, { state: next[step]!, epoch, peer });
    return Promise.resolve({ ok: true, reason: '' });
  }
  exportPage(): Promise<ExportPage> {
    this.calls.push('export@0');
    const kv = (k: string): ExportedKey => ({ key: Buffer.from(k), value: Buffer.from('v'), version: 1 });
    return Promise.resolve({ ok: true, kvs: [kv('a'), kv('b')], more: false, sessions: new Uint8Array() });
  }
  ingest(shard: number, from: number, epoch: number): Promise<StepOutcome> {
    this.calls.push(`ingest@${shard}`);
    this.state.set(shard, { state: 'imported', epoch, peer: from });
    return Promise.resolve({ ok: true, reason: '' });
  }
}

describe('resharding steps', () => {
  const move = { from: 0, to: 1, firstSlot: 10, lastSlot: 11, epoch: 3 };

  test('MoveSlots drives the batch to the end and reports keys, pages and the pause in its Event', async () => {
    const cluster = testCluster({ shards: 2 });
    const kube = new FakeKube();
    const groups = new TableGroups();
    let closed = false;
    const ex = new Executor(kube, new FakeAdmin(), 3, undefined, () => ({
      groups,
      close: () => (closed = true),
    }));
    const o = op('Reshard', 'MoveSlots', 'resharding to 2 shards');
    const result = await ex.execute(
      cluster,
      { type: 'MoveSlots', move },
      o,
      testObjects(cluster, 3),
      new Map(),
    );
    expect(groups.calls).toEqual(['import@1', 'freeze@0', 'export@0', 'ingest@1', 'activate@1', 'release@0']);
    expect(result.moved).toMatchObject({ keysCopied: 2, pages: 1 });
    expect(kube.events[0]).toMatchObject({ reason: 'SlotsMoved', action: 'MoveSlots' });
    expect(kube.events[0]!.note).toMatch(
      /^moved slots 10-11 from shard 0 to shard 1 \(epoch 3\): 2 key\(s\) in 1 page\(s\), writes to these slots paused \d+ ms$/,
    );
    expect(closed).toBe(true);
  });

  test('a batch the groups keep refusing fails the step within its bounds, with a Warning', async () => {
    const cluster = testCluster({ shards: 2 });
    const kube = new FakeKube();
    const refusing: SlotGroups = {
      status: () => Promise.resolve({ epoch: 0, records: [{ state: 'owned', epoch: 0, peer: NO_PEER }] }),
      step: () => Promise.resolve({ ok: false, reason: 'not the leader of this epoch' }),
      exportPage: () => Promise.resolve({ ok: false, reason: 'no' }),
      ingest: () => Promise.resolve({ ok: false, reason: 'no' }),
    };
    const ex = new Executor(
      kube,
      new FakeAdmin(),
      3,
      undefined,
      () => ({ groups: refusing, close: () => {} }),
      {
        timeoutMs: 5000,
        maxRounds: 5,
      },
    );
    const o = op('Reshard', 'MoveSlots', 'resharding to 2 shards');
    await expect(
      ex.execute(cluster, { type: 'MoveSlots', move }, o, testObjects(cluster, 3), new Map()),
    ).rejects.toThrow(/did not finish in 5 rounds \(last refusal: not the leader of this epoch\)/);
    expect(kube.events.map((e) => e.reason)).toEqual(['StepFailed']);
  });

  test('stopMoves ends a batch moving now at its next group call, refuses new ones, and leaves it resumable', async () => {
    const cluster = testCluster({ shards: 2 });
    const kube = new FakeKube();
    const groups = new TableGroups();
    const api: SlotGroups = groups;
    // The session's groups hang in the first export, as a slow copy would; closing the session fails them.
    let failStuck: (err: Error) => void = () => undefined;
    const stuck: SlotGroups = {
      status: (...call) => api.status(...call),
      step: (...call) => api.step(...call),
      exportPage: () => new Promise<ExportPage>((_, reject) => (failStuck = reject)),
      ingest: (...call) => api.ingest(...call),
    };
    const ex = new Executor(kube, new FakeAdmin(), 3, undefined, () => ({
      groups: stuck,
      close: () => failStuck(new Error('shard 0: the slot-move session is closed')),
    }));
    const o = op('Reshard', 'MoveSlots', 'resharding to 2 shards');
    const moving = ex.execute(cluster, { type: 'MoveSlots', move }, o, testObjects(cluster, 3), new Map());
    await new Promise((r) => setTimeout(r, 10));
    expect(groups.calls).toEqual(['import@1', 'freeze@0']);
    ex.stopMoves();
    await expect(moving).rejects.toThrow(/the slot-move session is closed/);
    // Where it stopped is in the groups' records: the target importing, the source frozen, at the batch's epoch.
    expect(groups.state.get(1)).toMatchObject({ state: 'importing', epoch: 3 });
    expect(groups.state.get(0)).toMatchObject({ state: 'leaving', epoch: 3 });
    await expect(
      ex.execute(cluster, { type: 'MoveSlots', move }, o, testObjects(cluster, 3), new Map()),
    ).rejects.toThrow(/slot moves are stopped: this operator replica is shutting down/);
    expect(groups.calls).toEqual(['import@1', 'freeze@0']);
  });

  test('RepointSlots sends one repoint step per owner to the group that gave the slots away; a refusal fails it', async () => {
    const cluster = testCluster({ shards: 3 });
    const kube = new FakeKube();
    const sent: string[] = [];
    let refuse = false;
    const groups: SlotGroups = {
      status: () => Promise.reject(new Error('not read')),
      step: (shard, step, slots, peer, epoch) => {
        sent.push(`${step}@${shard} ${slots.join(',')}>${peer}@${epoch}`);
        return Promise.resolve(
          refuse
            ? { ok: false, reason: 'slot 7: cannot repoint a slot that is owned' }
            : { ok: true, reason: '' },
        );
      },
      exportPage: () => Promise.reject(new Error('no export')),
      ingest: () => Promise.reject(new Error('no ingest')),
    };
    let sessions = 0;
    const ex = new Executor(kube, new FakeAdmin(), 3, undefined, () => {
      sessions++;
      return { groups, close: () => (sessions -= 1) };
    });
    const action = {
      type: 'RepointSlots' as const,
      shard: 1,
      batches: [
        { owner: 0, epoch: 4, slots: [7, 8] },
        { owner: 2, epoch: 6, slots: [9] },
      ],
    };
    const o = op(
      'Reshard',
      'RepointSlots',
      "resharding to 2 shards: pointing shard 1's routing records of 3 slot(s)",
    );
    await ex.execute(cluster, action, o, testObjects(cluster, 3), new Map());
    expect(sent).toEqual(['repoint@1 7,8>0@4', 'repoint@1 9>2@6']);
    expect(sessions).toBe(0); // every session closed
    expect(kube.events[0]).toMatchObject({ reason: 'SlotsRepointed', action: 'RepointSlots' });

    refuse = true;
    await expect(ex.execute(cluster, action, o, testObjects(cluster, 3), new Map())).rejects.toThrow(
      /shard 1 refused to point 2 slot\(s\) at shard 0: slot 7: cannot repoint a slot that is owned/,
    );
    expect(kube.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'StepFailed' });
  });

  test('RetireShard deletes the shard’s StatefulSet, PDB, Service and (whenScaled Delete) volumes, by uid', () => {
    const two = testCluster({ shards: 2 });
    const objects = testObjects(two, 2);
    const one = testCluster({ shards: 1 });
    const requests = requestsFor({ type: 'RetireShard', shard: 1 }, one, objects);
    expect(requests.map((r) => (r.kind === 'delete' ? `${r.resource} ${r.name}` : r.kind))).toEqual([
      'statefulsets demo-s1',
      'poddisruptionbudgets demo-s1',
      'services demo-shard-1',
      'persistentvolumeclaims data-demo-s1-0',
      'persistentvolumeclaims data-demo-s1-1',
    ]);
    const retained = testCluster({
      shards: 1,
      pvcRetention: { whenScaled: 'Retain', whenDeleted: 'Retain' },
    });
    expect(requestsFor({ type: 'RetireShard', shard: 1 }, retained, objects)).toHaveLength(3);
    expect(() => requestsFor({ type: 'RetireShard', shard: 1 }, two, objects)).toThrow(
      /one of the 2 the spec asks for/,
    );
  });

  test('ResizeClaims: a larger storage request on each live claim, by uid', () => {
    const objects = testObjects(testCluster(), 3);
    const bigger = testCluster({ storage: { size: '2Gi' } });
    const requests = requestsFor(
      { type: 'ResizeClaims', shard: 0, size: '2Gi', claims: ['data-demo-0', 'data-demo-2', 'data-demo-9'] },
      bigger,
      objects,
    );
    // data-demo-9 does not exist: nothing to grow.
    expect(requests).toEqual([
      { kind: 'resizeClaim', namespace: 'db', name: 'data-demo-0', size: '2Gi', uid: 'pvc-uid-data-demo-0' },
      { kind: 'resizeClaim', namespace: 'db', name: 'data-demo-2', size: '2Gi', uid: 'pvc-uid-data-demo-2' },
    ]);
  });

  test('RecreateStatefulSet: the same shard state (replicas, founders, existing) with the new volume size', () => {
    const cluster = testCluster();
    const formed = buildStatefulSet(cluster, {
      shard: 0,
      replicas: 5,
      initialClusterState: 'existing',
      founders: 3,
      bootstrapShards: 1,
      volumeSize: '1Gi',
    });
    formed.metadata = {
      ...formed.metadata,
      uid: 'sts-uid-1',
      ownerReferences: formed.metadata?.ownerReferences ?? [],
    };
    const objects = { ...testObjects(cluster, 5), statefulSets: [formed] };
    const bigger = testCluster({ storage: { size: '3Gi' } });
    const [r, ...rest] = requestsFor({ type: 'RecreateStatefulSet', shard: 0 }, bigger, objects);
    expect(rest).toEqual([]);
    expect(r?.kind).toBe('recreateStatefulSet');
    if (r?.kind !== 'recreateStatefulSet') return;
    expect(r.uid).toBe('sts-uid-1');
    expect(r.object.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests).toEqual({ storage: '3Gi' });
    expect(mapStatefulSet(r.object)).toMatchObject({
      replicas: 5,
      founders: 3,
      initialClusterState: 'existing',
    });
    // Its pod template is the one the pods run: re-creating it restarts none of them.
    expect(r.object.spec?.template).toEqual(formed.spec?.template);
  });

  test('a StatefulSet gone while its pods remain is applied again as a formed shard keeping every pod', () => {
    const cluster = testCluster();
    const objects = { ...testObjects(cluster, 4), statefulSets: [] };
    const reqs = requestsFor({ type: 'ApplyChildren' }, cluster, objects);
    const sts = reqs.flatMap((q) =>
      q.kind === 'apply' && q.object.kind === 'StatefulSet' ? [q.object] : [],
    );
    // Not "new": its pods must join the shard they belong to, never found another; replicas cover pod 3.
    expect(mapStatefulSet(sts[0] as V1StatefulSet)).toMatchObject({
      replicas: 4,
      initialClusterState: 'existing',
    });
    const fresh = requestsFor({ type: 'ApplyChildren' }, cluster, {
      ...testObjects(cluster, 0),
      statefulSets: [],
    });
    const created = fresh.flatMap((q) =>
      q.kind === 'apply' && q.object.kind === 'StatefulSet' ? [q.object] : [],
    );
    expect(mapStatefulSet(created[0] as V1StatefulSet)).toMatchObject({
      replicas: 3,
      initialClusterState: 'new',
    });
  });

  test('ForceNewCluster calls that member at its own address only, and records what it kept', async () => {
    const cluster = testCluster();
    const objects = testObjects(cluster, 3);
    const action: Action = { type: 'ForceNewCluster', shard: 0, member: 'demo-1', token: 't1' };
    expect(requestsFor(action, cluster, objects)).toEqual([
      { kind: 'forceNewCluster', shard: 0, member: 'demo-1', address: '10.244.1.11:2379', token: 't1' },
    ]);
    const kube = new FakeKube();
    const admin = new FakeAdmin();
    const at = new Date('2026-12-07T10:00:00Z');
    const ex = new Executor(kube, admin, 3, undefined, undefined, undefined, () => at);
    const done = await ex.execute(
      cluster,
      action,
      op('Recover', 'ForceNewCluster', 'recovering'),
      objects,
      new Map(),
    );
    expect(admin.calls).toEqual([
      { op: 'forceNewCluster', address: '10.244.1.11:2379', shard: 0, id: 'demo-1' },
    ]);
    expect(done.forced).toEqual({
      token: 't1',
      shard: 0,
      member: 'demo-1',
      commit: 118,
      lastIndex: 120,
      lastLogTerm: 3,
      at: '2026-12-07T10:00:00.000Z',
    });
    expect(kube.events[0]).toMatchObject({
      type: 'Warning',
      reason: 'QuorumLossRecovered',
      note:
        'shard 0: demo-1 restarts as a one-voter cluster keeping its data up to commit index 118 (recovery t1); it ' +
        'had 2 uncommitted log entries after it (index 120), dropped; writes the lost majority acknowledged after ' +
        'index 118 may be gone',
    });
    const gone = { ...objects, pods: objects.pods.filter((p) => p.metadata?.name !== 'demo-1') };
    expect(() => requestsFor(action, cluster, gone)).toThrow(/pod demo-1 has no address to call/);
  });
});
