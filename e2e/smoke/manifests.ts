// The objects the smoke suite creates, as plain manifests (the image is the e2e httpd from e2e/kube/images.json).

export const HTTPD_IMAGE = 'raftstore/e2e-httpd:1';

const httpdContainer = (extraEnv: object[] = []): object => ({
  name: 'httpd',
  image: HTTPD_IMAGE,
  ports: [{ name: 'http', containerPort: 8080 }],
  env: [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'DATA_DIR', value: '/data' },
    ...extraEnv,
  ],
  readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2 },
  livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5 },
});

export function statefulSet(name: string, replicas: number): object[] {
  const labels = { app: name };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels },
      spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'http', port: 8080 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `${name}-lb`, labels },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, labels },
      spec: {
        serviceName: name,
        replicas,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 5,
            // Preferred, not required: three nodes, and the suite scales to four.
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      labelSelector: { matchLabels: labels },
                      topologyKey: 'kubernetes.io/hostname',
                    },
                  },
                ],
              },
            },
            containers: [{ ...httpdContainer(), volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Mi' } } },
          },
        ],
      },
    },
  ];
}

export function rbacPod(namespace: string): object[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'configmap-reader' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader-reads-configmaps' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings' },
      data: { level: 'debug', 'app.conf': 'color=blue\n' },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { password: 's3cret' } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sa-client', labels: { app: 'sa-client' } },
      spec: {
        serviceAccountName: 'reader',
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            ...httpdContainer([
              { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } },
              { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
              {
                name: 'MEM_LIMIT_MI',
                valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } },
              },
            ]),
            resources: { limits: { memory: '64Mi' } },
            volumeMounts: [
              { name: 'config', mountPath: '/etc/app' },
              { name: 'scratch', mountPath: '/data' },
              { name: 'info', mountPath: '/etc/podinfo' },
            ],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'settings' } },
          { name: 'scratch', emptyDir: {} },
          {
            name: 'info',
            downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] },
          },
        ],
      },
    },
  ];
}

export function simplePod(name: string, image: string, command?: string[]): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'main', image, ...(command === undefined ? {} : { command }) }],
    },
  };
}
