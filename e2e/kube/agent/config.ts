// Command-line configuration of the agent, parsed and validated in one place. Cluster facts shared with the
// control plane (bridge, CIDRs, node names) come from e2e/kube/controlplane/cluster.ts, the contract's one source.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BRIDGE_ADDRESS,
  BRIDGE_NAME,
  CLUSTER_DOMAIN,
  DNS_SERVICE_IP,
  KUBERNETES_SERVICE_IP,
  NODES,
  SERVICE_CIDR,
} from '../controlplane/cluster.js';
import { KUBELET_BACKOFF, validateBackoff, type BackoffPolicy } from './backoff.js';
import type { SimulatedNode } from './node-status.js';

export interface AgentConfig {
  stateDir: string;
  agentDir: string;
  repo: string;
  imagesFile: string;
  faultPort: number;
  backoff: BackoffPolicy;
  nodes: SimulatedNode[];
  bridge: string;
  gateway: string;
  serviceCidr: string;
  kubernetesServiceIP: string;
  dnsServiceIP: string;
  /**
   * The nameserver pods' resolv.conf names: CoreDNS's own address on the bridge, not the kube-dns Service IP, as
   * NodeLocal DNSCache does with its link-local address. DNS through the Service is DNATed, and glibc sends a
   * lookup's A and AAAA queries at once from one socket: conntrack's insert race then drops one of them on some
   * kernels and machines, and that lookup stalls for resolv.conf's 5 s timeout (kubernetes/kubernetes#56903) —
   * longer than raftctl's 5 s deadline, and a stall for every peer's re-resolution after pods move.
   */
  podNameserver: string;
  clusterDomain: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): AgentConfig {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) opts.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const v = argv[i + 1];
      if (v === undefined) throw new Error(`${a} needs a value`);
      opts.set(a.slice(2), v);
      i++;
    }
  }
  const known = new Set([
    'state-dir',
    'repo',
    'images',
    'fault-port',
    'backoff-initial-ms',
    'backoff-max-ms',
    'nodes',
  ]);
  for (const k of opts.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}`);
  const num = (k: string, dflt: number): number => {
    const v = opts.get(k);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a non-negative integer, got ${v}`);
    return n;
  };
  const stateDir = path.resolve(
    opts.get('state-dir') ?? env['RAFTSTORE_KUBE_DIR'] ?? '/var/tmp/raftstore-kube',
  );
  const repo = path.resolve(opts.get('repo') ?? path.join(here, '..', '..', '..'));
  const nodeCount = num('nodes', NODES.length);
  if (nodeCount < 1 || nodeCount > NODES.length)
    throw new Error(`--nodes must be between 1 and ${NODES.length}`);
  const initialMs = num('backoff-initial-ms', KUBELET_BACKOFF.initialMs);
  return {
    stateDir,
    agentDir: path.join(stateDir, 'agent'),
    repo,
    imagesFile: path.resolve(opts.get('images') ?? path.join(repo, 'e2e', 'kube', 'images.json')),
    faultPort: num('fault-port', 10290),
    backoff: validateBackoff({
      initialMs,
      maxMs: num('backoff-max-ms', Math.max(KUBELET_BACKOFF.maxMs, initialMs)),
      resetAfterMs: KUBELET_BACKOFF.resetAfterMs,
    }),
    nodes: NODES.slice(0, nodeCount).map((n, i) => ({
      name: n.name,
      podCIDR: n.podCidr,
      // All simulated nodes live on the bridge address: it is the InternalIP the API server reaches their kubelet
      // endpoints on (the node certificates carry it as a SAN); each node has its own port.
      hostIP: BRIDGE_ADDRESS,
      capacity: { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '20Gi' },
      kubeletPort: 10250 + i * 10,
      zone: `zone-${String.fromCharCode(97 + i)}`,
    })),
    bridge: BRIDGE_NAME,
    gateway: BRIDGE_ADDRESS,
    serviceCidr: SERVICE_CIDR,
    kubernetesServiceIP: KUBERNETES_SERVICE_IP,
    dnsServiceIP: DNS_SERVICE_IP,
    podNameserver: BRIDGE_ADDRESS,
    clusterDomain: CLUSTER_DOMAIN,
  };
}

/** The kubelet's environment for the `kubernetes` Service (enableServiceLinks-independent). */
export function kubernetesServiceEnv(ip: string): Record<string, string> {
  return {
    KUBERNETES_SERVICE_HOST: ip,
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: `tcp://${ip}:443`,
    KUBERNETES_PORT_443_TCP: `tcp://${ip}:443`,
    KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443',
    KUBERNETES_PORT_443_TCP_ADDR: ip,
  };
}
