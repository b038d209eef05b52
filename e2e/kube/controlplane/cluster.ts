// The fixed shape of the end-to-end cluster: addresses, ports, nodes and the state-dir layout. The node agent
// (e2e/kube/agent/) relies on the same facts; they are the contract between the two, so change them together.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Linux bridge that pod veths attach to; the control plane owns it and its address. */
export const BRIDGE_NAME = 'rsk0';
export const BRIDGE_ADDRESS = '10.244.0.1';
export const BRIDGE_PREFIX_LENGTH = 16;

export const SERVICE_CIDR = '10.96.0.0/16';
/** First address of the service CIDR: the `kubernetes` Service. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const DNS_SERVICE_IP = '10.96.0.10';
export const CLUSTER_DOMAIN = 'cluster.local';

export const APISERVER_PORT = 6443;
// etcd and CoreDNS's probes use non-default ports so that an etcd or web server another test runs on this machine
// (2379, 8080) does not collide with the cluster's.
export const ETCD_CLIENT_PORT = 23790;
export const ETCD_PEER_PORT = 23800;
export const COREDNS_HEALTH_PORT = 18053;
export const COREDNS_READY_PORT = 18181;
export const CONTROLLER_MANAGER_PORT = 10257;
export const SCHEDULER_PORT = 10259;

export interface SimulatedNode {
  readonly name: string;
  readonly podCidr: string;
}

export const NODES: readonly SimulatedNode[] = [
  { name: 'node-1', podCidr: '10.244.1.0/24' },
  { name: 'node-2', podCidr: '10.244.2.0/24' },
  { name: 'node-3', podCidr: '10.244.3.0/24' },
];

/**
 * The kube-controller-manager hostPath provisioner always creates volumes under /tmp/hostpath_pv/ (hard-coded in
 * pkg/volume/hostpath); a symlink from there to `<state>/pv` keeps the data inside the state dir.
 */
export const HOSTPATH_PROVISIONER_DIR = '/tmp/hostpath_pv';

export const COMPONENTS = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'coredns',
] as const;
export type Component = (typeof COMPONENTS)[number];

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['RAFTSTORE_KUBE_DIR'] ?? '/var/tmp/raftstore-kube';
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env['RAFTSTORE_KUBE_CACHE'] ?? join(env['HOME'] ?? homedir(), '.cache', 'raftstore-kube');
}

/** Every path of the state dir, so no file name is spelled twice. */
export function layout(dir: string) {
  return {
    root: dir,
    /** flock(2)ed by kube:up and kube:down for their whole run (lock.ts). */
    lock: join(dir, 'kube.lock'),
    pki: join(dir, 'pki'),
    adminKubeconfig: join(dir, 'admin.kubeconfig'),
    componentKubeconfig: (name: string) => join(dir, `${name}.kubeconfig`),
    nodesDir: join(dir, 'nodes'),
    nodeKubeconfig: (node: string) => join(dir, 'nodes', `${node}.kubeconfig`),
    runDir: join(dir, 'run'),
    pidFile: (name: string) => join(dir, 'run', `${name}.pid`),
    logsDir: join(dir, 'logs'),
    logFile: (name: string) => join(dir, 'logs', `${name}.log`),
    etcdData: join(dir, 'etcd-data'),
    pv: join(dir, 'pv'),
    agent: join(dir, 'agent'),
    corefile: join(dir, 'Corefile'),
  } as const;
}
export type Layout = ReturnType<typeof layout>;
