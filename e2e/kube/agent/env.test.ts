import { envReferences, expandVars, resolveEnv, type EnvSources } from './env.js';
import type { Container, Pod } from './kube-types.js';

const facts = {
  podIP: '10.244.1.7',
  hostIP: '10.244.0.11',
  nodeName: 'node-1',
  nodeAllocatable: { cpu: '4', memory: '8Gi' },
};
const container: Container = {
  name: 'app',
  image: 'x:1',
  resources: { limits: { memory: '256Mi' }, requests: { cpu: '250m' } },
  envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
  env: [
    { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'ROLE', valueFrom: { fieldRef: { fieldPath: "metadata.labels['role']" } } },
    { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
    { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
    { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
    { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'level' } } },
    { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
    { name: 'URL', value: 'http://$(IP):8080/$(NOPE)/$$(IP)' },
  ],
};
const pod: Pod = {
  metadata: { name: 'web-0', namespace: 'db', labels: { role: 'leader' } },
  spec: { containers: [container] },
};
const sources: EnvSources = {
  configMaps: new Map([['cfg', { metadata: { name: 'cfg' }, data: { level: 'debug' } }]]),
  secrets: new Map([
    ['sec', { metadata: { name: 'sec' }, data: { password: Buffer.from('s3cret').toString('base64') } }],
  ]),
  serviceEnv: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
};

describe('env', () => {
  it('resolves field, resource, configmap and secret references and expands $(VAR)', () => {
    const r = resolveEnv(pod, container, facts, { IMAGE: '1' }, sources);
    if (!r.ok) throw new Error(r.message);
    expect(r.env).toMatchObject({
      IMAGE: '1',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      CFG_level: 'debug',
      POD: 'web-0',
      IP: '10.244.1.7',
      ROLE: 'leader',
      MEM_MI: '256',
      CPU_M: '250',
      CPU_LIMIT: '4',
      LEVEL: 'debug',
      PW: 's3cret',
      URL: 'http://10.244.1.7:8080/$(NOPE)/$(IP)',
    });
  });
  it('fails with CreateContainerConfigError for a missing key unless optional', () => {
    const c: Container = {
      ...container,
      envFrom: [],
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'nope' } } }],
    };
    const r = resolveEnv(pod, c, facts, {}, sources);
    expect(r).toEqual({
      ok: false,
      reason: 'CreateContainerConfigError',
      message: "couldn't find key nope in Secret db/sec",
    });
    const opt: Container = {
      ...c,
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'nope', optional: true } } }],
    };
    expect(resolveEnv(pod, opt, facts, {}, sources).ok).toBe(true);
  });
  it('fails for an unsupported fieldPath, naming the variable', () => {
    const c: Container = {
      name: 'app',
      image: 'x',
      env: [{ name: 'Z', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }],
    };
    const r = resolveEnv(pod, c, facts, {}, sources);
    expect(r.ok ? '' : r.message).toMatch(/env Z: unsupported fieldRef/);
  });
  it('lists referenced configmaps and secrets', () => {
    expect(envReferences(container)).toEqual({ configMaps: ['cfg'], secrets: ['sec'] });
  });
  it('expandVars leaves unknown references and unescapes $$', () => {
    expect(expandVars('$(A)-$(B)-$$(A)', { A: 'x' })).toBe('x-$(B)-$(A)');
  });
});
