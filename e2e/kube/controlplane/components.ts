// Command lines of the control-plane daemons and CoreDNS's Corefile. Pure: paths in, argv out.
import { join } from 'node:path';
import {
  APISERVER_PORT,
  BRIDGE_ADDRESS,
  CLUSTER_DOMAIN,
  COREDNS_HEALTH_PORT,
  COREDNS_READY_PORT,
  CONTROLLER_MANAGER_PORT,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  SCHEDULER_PORT,
  SERVICE_CIDR,
  type Component,
  type Layout,
} from './cluster.js';

export interface CommandLine {
  readonly argv: readonly string[];
}

export const CLUSTER_NAME = 'raftstore-e2e';
export const SERVICE_ACCOUNT_ISSUER = `https://kubernetes.default.svc.${CLUSTER_DOMAIN}`;

export function etcdUrl(): string {
  return `http://127.0.0.1:${ETCD_CLIENT_PORT}`;
}

/** The Corefile: cluster.local from the API, nothing else (no upstream: this machine has no DNS to forward to). */
export function corefile(kubeconfig: string): string {
  return [
    '.:53 {',
    `    bind ${BRIDGE_ADDRESS}`,
    '    errors',
    `    health 127.0.0.1:${COREDNS_HEALTH_PORT}`,
    `    ready 127.0.0.1:${COREDNS_READY_PORT}`,
    `    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
    `        kubeconfig ${kubeconfig}`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 5',
    '    }',
    '    cache 5',
    '}',
    '',
  ].join('\n');
}

export function commandLines(bin: string, l: Layout): Record<Component, CommandLine> {
  const pki = (f: string): string => join(l.pki, f);
  // Controllers authenticate to the apiserver and delegate authn/authz of their own /metrics, /healthz through it.
  const delegated = (kubeconfig: string): string[] => [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
  ];
  return {
    etcd: {
      argv: [
        join(bin, 'etcd'),
        '--name=default',
        `--data-dir=${l.etcdData}`,
        // Loopback only and plain HTTP: nothing but the apiserver on this host talks to it.
        `--listen-client-urls=${etcdUrl()}`,
        `--advertise-client-urls=${etcdUrl()}`,
        `--listen-peer-urls=http://127.0.0.1:${ETCD_PEER_PORT}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ETCD_PEER_PORT}`,
        `--initial-cluster=default=http://127.0.0.1:${ETCD_PEER_PORT}`,
        // Throwaway test cluster: skip the fsync per commit that makes a busy CI disk the bottleneck.
        '--unsafe-no-fsync=true',
        '--quota-backend-bytes=1073741824',
        '--log-level=warn',
      ],
    },
    'kube-apiserver': {
      argv: [
        join(bin, 'kube-apiserver'),
        '--bind-address=0.0.0.0',
        `--secure-port=${APISERVER_PORT}`,
        `--advertise-address=${BRIDGE_ADDRESS}`,
        `--etcd-servers=${etcdUrl()}`,
        `--tls-cert-file=${pki('apiserver.crt')}`,
        `--tls-private-key-file=${pki('apiserver.key')}`,
        `--client-ca-file=${pki('ca.crt')}`,
        `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
        `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
        `--kubelet-certificate-authority=${pki('ca.crt')}`,
        '--authorization-mode=Node,RBAC',
        '--enable-admission-plugins=NodeRestriction',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
        `--service-account-key-file=${pki('sa.pub')}`,
        `--service-account-signing-key-file=${pki('sa.key')}`,
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
      ],
    },
    'kube-controller-manager': {
      argv: [
        join(bin, 'kube-controller-manager'),
        ...delegated(l.componentKubeconfig('kube-controller-manager')),
        '--bind-address=127.0.0.1',
        `--secure-port=${CONTROLLER_MANAGER_PORT}`,
        // "*" = every controller that is on by default; node IPAM stays off (the agent sets spec.podCIDR).
        '--controllers=*',
        '--allocate-node-cidrs=false',
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--cluster-name=${CLUSTER_NAME}`,
        `--cluster-signing-cert-file=${pki('ca.crt')}`,
        `--cluster-signing-key-file=${pki('ca.key')}`,
        `--root-ca-file=${pki('ca.crt')}`,
        `--service-account-private-key-file=${pki('sa.key')}`,
        '--use-service-account-credentials=true',
        // Dynamic PVs (StorageClass provisioner kubernetes.io/host-path) under /tmp/hostpath_pv -> <state>/pv.
        '--enable-hostpath-provisioner=true',
        // One instance: leader election would only add a lease round-trip to every start.
        '--leader-elect=false',
        '--profiling=false',
        '--v=1',
      ],
    },
    'kube-scheduler': {
      argv: [
        join(bin, 'kube-scheduler'),
        ...delegated(l.componentKubeconfig('kube-scheduler')),
        '--bind-address=127.0.0.1',
        `--secure-port=${SCHEDULER_PORT}`,
        '--leader-elect=false',
        '--profiling=false',
        '--v=1',
      ],
    },
    coredns: {
      argv: [join(bin, 'coredns'), '-conf', l.corefile],
    },
  };
}
