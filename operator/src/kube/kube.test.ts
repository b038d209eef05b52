import type { KubernetesListObject, KubernetesObject, Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import { testCluster } from '../../testing/fakes.js';
import { buildEvent, leaseToRecord, pinnedNodes, recordToLease } from './api.js';
import {
  generationChanged,
  keyOf,
  restartDelayMs,
  RestartingInformer,
  splitKey,
  type InformerEvents,
} from './informers.js';
import { InvalidObjectError, parseRaftCluster, withNodeImage } from './parse.js';

const silent = pino({ level: 'silent' });

describe('informer keys', () => {
  test('a cluster keys itself; children key their cluster by the instance label', () => {
    expect(keyOf('raftclusters', { metadata: { name: 'demo', namespace: 'db' } })).toBe('db/demo');
    expect(
      keyOf('pods', {
        metadata: { name: 'demo-1', namespace: 'db', labels: { 'app.kubernetes.io/instance': 'demo' } },
      }),
    ).toBe('db/demo');
    expect(keyOf('pods', { metadata: { name: 'x', namespace: 'db' } })).toBeUndefined();
    expect(splitKey('db/demo')).toEqual({ namespace: 'db', name: 'demo' });
    expect(() => splitKey('demo')).toThrow(/not namespace\/name/);
  });
  test('status-only updates of a RaftCluster do not count as a change', () => {
    const a = { metadata: { generation: 1 } };
    expect(generationChanged(a, { metadata: { generation: 1 } })).toBe(false);
    expect(generationChanged({ metadata: { generation: 2 } }, a)).toBe(true);
    expect(generationChanged({ metadata: { generation: 1, deletionTimestamp: new Date() } }, a)).toBe(true);
  });
  test('restart backoff: 1 s doubling, capped at 60 s', () => {
    expect([1, 2, 3, 7, 8, 50].map((n) => restartDelayMs(n))).toEqual([
      1000, 2000, 4000, 60_000, 60_000, 60_000,
    ]);
  });
});

/** A Watch whose first `failures` connections fail with HTTP 500 (client-node then stops the informer). */
function flakyWatch(failures: number): { watch: Watch; connects: () => number } {
  let n = 0;
  const fake = {
    watch: (
      _path: string,
      _q: unknown,
      _cb: unknown,
      done: (err: unknown) => void,
    ): Promise<AbortController> => {
      n += 1;
      if (n <= failures) {
        const err = Object.assign(new Error('Internal Server Error'), { statusCode: 500 });
        setTimeout(() => done(err), 1);
      }
      return Promise.resolve(new AbortController());
    },
  };
  return { watch: fake as unknown as Watch, connects: () => n };
}

describe('RestartingInformer', () => {
  const list = (): Promise<KubernetesListObject<KubernetesObject>> =>
    Promise.resolve({
      apiVersion: 'v1',
      kind: 'PodList',
      metadata: { resourceVersion: '10' },
      items: [{ metadata: { name: 'demo-0', namespace: 'db' } }],
    });

  test('comes back after the watch fails (client-node would have stopped it for good)', async () => {
    const { watch, connects } = flakyWatch(2);
    const errors: string[] = [];
    const events: InformerEvents = { onChange: () => undefined, onError: (_k, _ns, e) => errors.push(e) };
    const inf = new RestartingInformer('pods', '', '/api/v1/pods', list, watch, 'a=b', events, silent, {
      restartBaseMs: 5,
      restartMaxMs: 20,
      listTimeoutMs: 1000,
    });
    await inf.start();
    for (let i = 0; i < 100 && connects() < 3; i++) await new Promise((r) => setTimeout(r, 5));
    expect(connects()).toBe(3);
    expect(errors).toEqual(['Internal Server Error', 'Internal Server Error']);
    expect(inf.restarts).toBe(2);
    expect(
      inf
        .cache()
        .list('db')
        .map((o) => o.metadata?.name),
    ).toEqual(['demo-0']);
    await inf.stop();
  });

  test('a failing list is retried, and the informer is not synced meanwhile', async () => {
    const { watch } = flakyWatch(0);
    let calls = 0;
    const failingList = (): Promise<KubernetesListObject<KubernetesObject>> =>
      ++calls === 1 ? Promise.reject(new Error('connection refused')) : list();
    const inf = new RestartingInformer(
      'pods',
      'db',
      '/api/v1/namespaces/db/pods',
      failingList,
      watch,
      undefined,
      { onChange: () => undefined },
      silent,
      {
        restartBaseMs: 5,
        restartMaxMs: 20,
        listTimeoutMs: 1000,
      },
    );
    await inf.start();
    expect(inf.isSynced()).toBe(false);
    for (let i = 0; i < 100 && !inf.isSynced(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(inf.isSynced()).toBe(true);
    await inf.stop();
  });
});

describe('parseRaftCluster', () => {
  test('accepts a defaulted object, rejects what the code cannot read, with the field named', () => {
    const c = testCluster();
    expect(parseRaftCluster(JSON.parse(JSON.stringify(c)))).toEqual(c);
    const noDefaults = { ...c, spec: { replicas: 3, shards: 1, version: '1.0.0' } };
    expect(() => parseRaftCluster(noDefaults)).toThrow(InvalidObjectError);
    expect(() => parseRaftCluster(noDefaults)).toThrow(/RaftCluster db\/demo: spec.paused is missing/);
    expect(() => parseRaftCluster({ metadata: {} })).toThrow(/metadata.name and metadata.namespace/);
  });
  test('withNodeImage fills spec.image only for another repository and only without an explicit image', () => {
    expect(withNodeImage(testCluster(), 'raftstore/node').spec.image).toBeUndefined();
    expect(withNodeImage(testCluster(), 'reg/x').spec.image).toBe('reg/x:1.0.0');
    expect(withNodeImage(testCluster({ image: 'mine:1' }), 'reg/x').spec.image).toBe('mine:1');
  });
});

describe('Lease mapping', () => {
  test('record ↔ Lease round trip keeps micro-time instants and the resourceVersion', () => {
    const r = {
      holderIdentity: 'op-1',
      leaseDurationSeconds: 15,
      acquireTime: '2026-03-01T10:00:00.000Z',
      renewTime: '2026-03-01T10:00:02.000Z',
      leaseTransitions: 2,
      resourceVersion: '99',
    };
    const lease = recordToLease('raftstore-operator-leader', 'sys', r);
    expect(lease.metadata).toEqual({
      name: 'raftstore-operator-leader',
      namespace: 'sys',
      resourceVersion: '99',
    });
    expect(leaseToRecord(lease)).toEqual(r);
  });
});

describe('buildEvent', () => {
  test('an events.k8s.io/v1 Event regarding the cluster, with a valid object name', () => {
    const e = buildEvent(
      testCluster(),
      { type: 'Normal', reason: 'MemberRemoved', action: 'RemoveMember', note: 'n'.repeat(2000) },
      'op-1',
      new Date(1_700_000_000_000),
      'ab12cd34',
    );
    expect(e.metadata?.name).toBe('demo.18bcfe56800ab12cd34');
    expect(e.metadata?.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);
    expect(e.regarding).toEqual({
      apiVersion: 'raftstore.dev/v1alpha1',
      kind: 'RaftCluster',
      name: 'demo',
      namespace: 'db',
      uid: 'uid-1',
    });
    expect(e).toMatchObject({
      reportingController: 'raftstore.dev/operator',
      reportingInstance: 'op-1',
      reason: 'MemberRemoved',
      action: 'RemoveMember',
    });
    expect(e.note).toHaveLength(1024);
  });
});

describe('PersistentVolume node pinning', () => {
  test('a volume is pinned by its required hostname affinity', () => {
    const pv = {
      spec: {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-2'] }] },
            ],
          },
        },
      },
    };
    expect(pinnedNodes(pv)).toEqual(['node-2']);
    expect(pinnedNodes({ spec: { hostPath: { path: '/x' } } })).toEqual([]);
  });
});
