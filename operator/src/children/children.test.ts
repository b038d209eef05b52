import type {
  V1EnvVar,
  V1PodDisruptionBudget,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { RaftCluster } from '../api/raftcluster.js';
import { baseSpec } from '../../testing/sim-world.js';
import { buildChildren, initialShardState } from './children.js';
import { ordinalOf, pvcName } from './names.js';
import { buildStatefulSet, DATA_DIR } from './statefulset.js';

function cluster(over: Partial<RaftCluster['spec']> = {}): RaftCluster {
  return {
    apiVersion: 'raftstore.dev/v1alpha1',
    kind: 'RaftCluster',
    metadata: { name: 'demo', namespace: 'db', uid: 'uid-123', generation: 1 },
    spec: baseSpec(over),
  };
}

function envOf(sts: V1StatefulSet): Map<string, V1EnvVar> {
  const env = sts.spec!.template.spec!.containers[0]!.env!;
  return new Map(env.map((e) => [e.name, e]));
}

describe('StatefulSet', () => {
  const sts = buildStatefulSet(cluster(), initialShardState(cluster(), 0, 1));
  const pod = sts.spec!.template.spec!;
  const c = pod.containers[0]!;

  test('operator-driven rollout: OnDelete, Parallel, volumes kept on scale-down for the planner', () => {
    expect(sts.metadata?.name).toBe('demo');
    expect(sts.spec?.updateStrategy).toEqual({ type: 'OnDelete' });
    expect(sts.spec?.podManagementPolicy).toBe('Parallel');
    expect(sts.spec?.serviceName).toBe('demo-peer');
    expect(sts.spec?.persistentVolumeClaimRetentionPolicy).toEqual({
      whenScaled: 'Retain',
      whenDeleted: 'Retain',
    });
    expect(sts.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'RaftCluster',
      uid: 'uid-123',
      controller: true,
    });
  });

  test('env: identity from the pod name, advertise addresses via the peer service, founders listed', () => {
    const env = envOf(sts);
    expect(pod.containers[0]!.env![0]!.name).toBe('POD_NAME');
    expect(env.get('RAFTSTORE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.get('RAFTSTORE_CLUSTER_ID')?.value).toBe('uid-123');
    expect(env.get('RAFTSTORE_SHARD')?.value).toBe('0');
    expect(env.get('RAFTSTORE_DATA_DIR')?.value).toBe(DATA_DIR);
    expect(env.get('RAFTSTORE_PEER_LISTEN')?.value).toBe('0.0.0.0:2380');
    expect(env.get('RAFTSTORE_ADVERTISE_PEER')?.value).toBe(
      '$(POD_NAME).demo-peer.db.svc.cluster.local:2380',
    );
    expect(env.get('RAFTSTORE_ADVERTISE_CLIENT')?.value).toBe(
      '$(POD_NAME).demo-peer.db.svc.cluster.local:2379',
    );
    expect(env.get('RAFTSTORE_INITIAL_MEMBERS')?.value).toBe(
      'demo-0=demo-0.demo-peer.db.svc.cluster.local:2380,demo-1=demo-1.demo-peer.db.svc.cluster.local:2380,' +
        'demo-2=demo-2.demo-peer.db.svc.cluster.local:2380',
    );
    expect(env.get('RAFTSTORE_INITIAL_CLUSTER_STATE')?.value).toBe('new');
    expect(env.get('RAFTSTORE_TICK_MS')?.value).toBe('100');
    for (const name of env.keys()) expect(name === 'POD_NAME' || name.startsWith('RAFTSTORE_')).toBe(true);
  });

  test('the data directory is on the volume mount', () => {
    const mount = c.volumeMounts!.find((m) => m.name === 'data')!;
    expect(DATA_DIR.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(sts.spec?.volumeClaimTemplates?.[0]?.metadata?.name).toBe('data');
    expect(sts.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests).toEqual({ storage: '1Gi' });
    expect(pvcName('demo', 0, 2)).toBe('data-demo-2');
  });

  test('hardened: non-root, read-only root FS, no capabilities, RuntimeDefault seccomp, no token', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.terminationGracePeriodSeconds).toBe(30);
    expect(c.lifecycle).toBeUndefined();
    expect(c.livenessProbe?.httpGet?.path).toBe('/livez');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.ports?.find((p) => p.name === 'http')?.containerPort).toBe(8080);
  });

  test('image: raftstore/node:<version> unless spec.image; scheduling defaults to a spread over nodes', () => {
    expect(c.image).toBe('raftstore/node:1.0.0');
    const custom = buildStatefulSet(cluster({ image: 'reg/x:y' }), initialShardState(cluster(), 0, 1));
    expect(custom.spec!.template.spec!.containers[0]!.image).toBe('reg/x:y');
    expect(pod.topologySpreadConstraints?.[0]?.topologyKey).toBe('kubernetes.io/hostname');
    const tsc = [{ maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }];
    const own = buildStatefulSet(
      cluster({ topologySpreadConstraints: tsc }),
      initialShardState(cluster(), 0, 1),
    );
    expect(own.spec!.template.spec!.topologySpreadConstraints).toEqual(tsc);
  });

  test('shard 1 has its own names and founders; our labels win over podTemplate labels', () => {
    const c2 = cluster({ podTemplate: { labels: { 'raftstore.dev/shard': 'x', team: 'a' } } });
    const s1 = buildStatefulSet(c2, {
      shard: 1,
      replicas: 3,
      initialClusterState: 'existing',
      founders: 3,
      bootstrapShards: 1,
    });
    expect(s1.metadata?.name).toBe('demo-s1');
    expect(envOf(s1).get('RAFTSTORE_INITIAL_MEMBERS')?.value).toMatch(/^demo-s1-0=demo-s1-0\.demo-peer/);
    expect(s1.spec!.template.metadata!.labels).toMatchObject({ 'raftstore.dev/shard': '1', team: 'a' });
    expect(ordinalOf('demo', 1, 'demo-s1-2')).toBe(2);
    expect(ordinalOf('demo', 0, 'demo-s1-2')).toBeUndefined();
  });
});

describe('other children', () => {
  const all = buildChildren(cluster({ service: { type: 'LoadBalancer' } }), [
    initialShardState(cluster(), 0, 1),
  ]);

  test('the peer Service is headless and publishes not-ready members', () => {
    const peer = all.find((o) => o.kind === 'Service' && o.metadata?.name === 'demo-peer') as V1Service;
    expect(peer.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    const client = all.find((o) => o.kind === 'Service' && o.metadata?.name === 'demo') as V1Service;
    expect(client.spec?.type).toBe('LoadBalancer');
  });

  test('each shard has a client Service of its own, which the members route other shards’ keys to', () => {
    const two = buildChildren(cluster({ shards: 2 }), [
      initialShardState(cluster(), 0, 2),
      initialShardState(cluster(), 1, 2),
    ]);
    const shard1 = two.find((o) => o.kind === 'Service' && o.metadata?.name === 'demo-shard-1') as V1Service;
    expect(shard1.spec?.selector).toMatchObject({ 'raftstore.dev/shard': '1' });
    const sts = two.find((o) => o.kind === 'StatefulSet' && o.metadata?.name === 'demo-s1') as V1StatefulSet;
    const env = new Map(sts.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env.get('RAFTSTORE_SHARD')).toBe('1');
    expect(env.get('RAFTSTORE_BOOTSTRAP_SHARDS')).toBe('2');
    expect(env.get('RAFTSTORE_SHARD_ENDPOINTS')).toBe('demo-shard-{shard}.db.svc.cluster.local:2379');
  });

  test('a shard added by a reshard starts from the creation layout, not from today’s spec.shards', () => {
    // Created with 2 shards, patched to 4: shard 3's members must know the first layout had 2 groups, so that
    // they start owning no slot (slots reach them only by moves).
    const [sts] = buildChildren(cluster({ shards: 4 }), [initialShardState(cluster(), 3, 2)]).filter(
      (o) => o.kind === 'StatefulSet',
    ) as V1StatefulSet[];
    const env = new Map(sts!.spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env.get('RAFTSTORE_BOOTSTRAP_SHARDS')).toBe('2');
  });

  test('PDB allows one member of a shard down; the ServiceAccount carries no token', () => {
    const pdb = all.find((o) => o.kind === 'PodDisruptionBudget') as V1PodDisruptionBudget;
    expect(pdb.spec?.maxUnavailable).toBe(1);
    expect(pdb.spec?.selector?.matchLabels).toMatchObject({ 'raftstore.dev/shard': '0' });
    const sa = all.find((o) => o.kind === 'ServiceAccount') as V1ServiceAccount;
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  test('apply order: dependencies before the StatefulSets; every object owned', () => {
    expect(all.map((o) => o.kind)).toEqual([
      'ServiceAccount',
      'Service',
      'Service',
      'Service',
      'PodDisruptionBudget',
      'StatefulSet',
    ]);
    for (const o of all) expect(o.metadata?.ownerReferences?.[0]?.uid).toBe('uid-123');
  });
});
