import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { raftClusterCrd, raftClusterCrdYaml, PRINTER_COLUMNS, SHORT_NAMES } from './crd.js';
import { desiredImage, specWarnings, type RaftClusterSpec } from './raftcluster.js';
import type { JsonSchema } from './schema.js';

interface Crd {
  spec: {
    versions: {
      schema: { openAPIV3Schema: JsonSchema };
      subresources: { scale: Record<string, string>; status: object };
    }[];
  };
}

const crd = raftClusterCrd() as unknown as Crd;
const version = crd.spec.versions[0]!;
const spec = version.schema.openAPIV3Schema.properties!.spec!;

describe('RaftCluster CRD', () => {
  test('the committed YAML is the generated one (crds:check does the same in CI)', () => {
    const path = fileURLToPath(new URL('../../../crds/raftstore.dev_raftclusters.yaml', import.meta.url));
    expect(readFileSync(path, 'utf8')).toBe(raftClusterCrdYaml());
    expect(load(readFileSync(path, 'utf8'))).toEqual(raftClusterCrd());
  });

  test('short names do not collide with built-ins', () => {
    const builtIns = [
      'rc',
      'rs',
      'sts',
      'svc',
      'pvc',
      'pv',
      'cm',
      'ds',
      'deploy',
      'ep',
      'ns',
      'no',
      'po',
      'sa',
      'pdb',
    ];
    for (const name of SHORT_NAMES) expect(builtIns).not.toContain(name);
  });

  test('/scale and /status subresources point at the right paths', () => {
    expect(version.subresources.status).toEqual({});
    expect(version.subresources.scale).toEqual({
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    });
  });

  test('printer columns: AGE last, SHARDS and OPERATION only under -o wide', () => {
    expect(PRINTER_COLUMNS.map((c) => c.name)).toEqual([
      'Ready',
      'Health',
      'Leader',
      'Version',
      'Shards',
      'Operation',
      'Age',
    ]);
    expect(PRINTER_COLUMNS.filter((c) => c.priority === 1).map((c) => c.name)).toEqual([
      'Shards',
      'Operation',
    ]);
  });

  test('only version is required; defaulted fields are not (the API server fills them in)', () => {
    expect(spec.required).toEqual(['version']);
    expect(spec.properties!.replicas!.default).toBe(3);
    expect(spec.properties!.replicas!.minimum).toBe(1);
    expect(spec.properties!.replicas!.maximum).toBe(9);
    expect(spec.properties!.storage!.properties!.size!.default).toBe('1Gi');
  });

  test('an object default under CEL rules is spelled out: the API server checks it without nested defaults', () => {
    // kube-apiserver 1.33 rejected the CRD with `default: {}` here ("no such key: size" / "heartbeatTicks").
    expect(spec.properties!.storage!.default).toEqual({ size: '1Gi' });
    expect(spec.properties!.raft!.default).toEqual({ tickMs: 100, electionTicks: 10, heartbeatTicks: 1 });
  });

  test('CEL rules: shards may change (online resharding) within 1..64, storage never shrinks', () => {
    expect(spec.properties!.shards!['x-kubernetes-validations']).toBeUndefined();
    expect([spec.properties!.shards!.minimum, spec.properties!.shards!.maximum]).toEqual([1, 64]);
    const storageRules = spec.properties!.storage!['x-kubernetes-validations']!.map((r) => r.rule);
    expect(storageRules).toContain('quantity(self.size).compareTo(quantity(oldSelf.size)) >= 0');
  });

  test('affinity, topology spread, resources and tolerations are checked at admission, nothing passes unchecked', () => {
    expect(JSON.stringify(spec)).not.toContain('x-kubernetes-preserve-unknown-fields');
    const nodeAffinity = spec.properties!.affinity!.properties!.nodeAffinity!;
    expect(Object.keys(nodeAffinity.properties!)).toEqual([
      'requiredDuringSchedulingIgnoredDuringExecution',
      'preferredDuringSchedulingIgnoredDuringExecution',
    ]);
    const spread = spec.properties!.topologySpreadConstraints!.items!;
    expect(spread.required).toEqual(['maxSkew', 'topologyKey', 'whenUnsatisfiable']);
    const resources = spec.properties!.resources!;
    expect(resources['x-kubernetes-preserve-unknown-fields']).toBeUndefined();
    const requested = resources.properties!.requests!.additionalProperties!;
    expect(requested['x-kubernetes-int-or-string']).toBe(true);
    expect(requested.pattern).toMatch(/^\^/);
    const toleration = spec.properties!.tolerations!.items!;
    expect(toleration.properties!.key!.type).toBe('string');
    expect(toleration.properties!.effect!.enum).toEqual(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);
    expect(spec.properties!.version!['x-kubernetes-validations']![0]!.message).toMatch(/semantic version/);
  });
});

describe('spec helpers', () => {
  const base: RaftClusterSpec = {
    replicas: 3,
    shards: 1,
    version: '0.1.0',
    storage: { size: '1Gi' },
    raft: { tickMs: 100, electionTicks: 10, heartbeatTicks: 1 },
    paused: false,
    pvcRetention: { whenScaled: 'Delete', whenDeleted: 'Retain' },
    service: { type: 'ClusterIP' },
    recovery: { replaceUnschedulableAfter: '5m' },
  };
  test('image defaults to raftstore/node:<version>, spec.image overrides', () => {
    expect(desiredImage(base)).toBe('raftstore/node:0.1.0');
    expect(desiredImage({ ...base, image: 'registry.example/rs:dev' })).toBe('registry.example/rs:dev');
  });
  test('even replicas warn, odd do not', () => {
    expect(specWarnings(base)).toEqual([]);
    expect(specWarnings({ ...base, replicas: 4 })[0]).toMatch(/even/);
  });
});
