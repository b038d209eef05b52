// Objects kube:up installs once the apiserver is ready: cluster DNS wiring and the default StorageClass.
import { BRIDGE_ADDRESS, DNS_SERVICE_IP } from './cluster.js';
import type { KubeObject } from './kubeapi.js';

export const FIELD_MANAGER = 'raftstore-kube-up';

/**
 * CoreDNS runs on the host, not as a pod, so the kube-dns Service has no selector and one hand-made EndpointSlice
 * pointing at the host's bridge address. The agent's service proxy turns 10.96.0.10 into 10.244.0.1.
 */
export function dnsObjects(): KubeObject[] {
  const labels = { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        {
          apiGroups: [''],
          resources: ['endpoints', 'services', 'pods', 'namespaces'],
          verbs: ['list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      // CoreDNS authenticates with a client cert (CN=system:coredns), not a service account: it is not a pod.
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'system:coredns' }],
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
      spec: {
        clusterIP: DNS_SERVICE_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'kube-dns-host',
        namespace: 'kube-system',
        labels: {
          ...labels,
          'kubernetes.io/service-name': 'kube-dns',
          // Any manager but the endpointslice controller's own, so the controller leaves this slice alone.
          'endpointslice.kubernetes.io/managed-by': FIELD_MANAGER,
        },
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: [BRIDGE_ADDRESS], conditions: { ready: true, serving: true, terminating: false } },
      ],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
    },
  ];
}

/**
 * kube-controller-manager's hostPath provisioner serves the in-tree provisioner name `kubernetes.io/host-path`.
 * Every simulated node shares this host's filesystem, so any node could use a volume made before scheduling, but
 * binding waits for the first consumer (as kind's and minikube's default classes do): with Immediate binding a pod
 * created together with its claim (every new StatefulSet member) is first unschedulable ("unbound immediate
 * PersistentVolumeClaims"), and kube-scheduler sometimes missed the claim's binding and left the pod parked until
 * its 5-minute unschedulable flush — a scale-up took 336 s in one CI run instead of 14. Waiting for the consumer,
 * the scheduler places the pod and waits for the volume itself; nothing is parked.
 */
export function storageObjects(): KubeObject[] {
  return [
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/host-path',
      // Claims may grow: the node agent's volume resizer expands them (the in-tree hostPath plugin cannot).
      allowVolumeExpansion: true,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    },
  ];
}
