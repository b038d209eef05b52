// The Node object a simulated machine registers, and its status, as the kubelet reports them.
import type { Condition, Node, NodeStatus } from './kube-types.js';

export interface SimulatedNode {
  name: string;
  podCIDR: string;
  /** InternalIP: where the API server reaches this node's kubelet endpoint (with kubeletPort). */
  hostIP: string;
  capacity: Record<string, string>;
  kubeletPort: number;
  zone: string;
}

export const AGENT_VERSION = 'v1.33.0-raftstore';

export function nodeObject(n: SimulatedNode): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': n.zone,
        'raftstore.dev/simulated-node': 'true',
      },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
  };
}

function cond(
  prev: readonly Condition[] | undefined,
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
  nowIso: string,
): Condition {
  const old = prev?.find((c) => c.type === type);
  return {
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: nowIso,
    lastTransitionTime:
      old?.status === status && old.lastTransitionTime !== undefined ? old.lastTransitionTime : nowIso,
  };
}

export function nodeStatus(
  n: SimulatedNode,
  prev: NodeStatus | undefined,
  nowIso: string,
  bootID: string,
): NodeStatus {
  const p = prev?.conditions;
  return {
    capacity: n.capacity,
    allocatable: n.capacity,
    conditions: [
      cond(
        p,
        'MemoryPressure',
        'False',
        'KubeletHasSufficientMemory',
        'kubelet has sufficient memory available',
        nowIso,
      ),
      cond(p, 'DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', nowIso),
      cond(
        p,
        'PIDPressure',
        'False',
        'KubeletHasSufficientPID',
        'kubelet has sufficient PID available',
        nowIso,
      ),
      cond(p, 'Ready', 'True', 'KubeletReady', 'raftstore node agent is posting ready status', nowIso),
    ],
    // No Hostname address: the API server prefers it for kubelet connections and node-N does not resolve here.
    addresses: [{ type: 'InternalIP', address: n.hostIP }],
    daemonEndpoints: { kubeletEndpoint: { Port: n.kubeletPort } },
    nodeInfo: {
      machineID: n.name,
      systemUUID: n.name,
      bootID,
      kernelVersion: 'host',
      osImage: 'raftstore simulated node',
      containerRuntimeVersion: 'raftstore-agent://1',
      kubeletVersion: AGENT_VERSION,
      kubeProxyVersion: AGENT_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/** Whether the status needs writing: a condition flipped, or the heartbeat is older than the report interval. */
export function nodeStatusDue(
  prev: NodeStatus | undefined,
  next: NodeStatus,
  nowMs: number,
  reportIntervalMs: number,
): boolean {
  const ready = prev?.conditions?.find((c) => c.type === 'Ready');
  if (ready === undefined || ready.status !== 'True') return true;
  const beat = Date.parse(ready.lastHeartbeatTime ?? '');
  if (!Number.isFinite(beat) || nowMs - beat >= reportIntervalMs) return true;
  const strip = (s: NodeStatus | undefined): string =>
    JSON.stringify({ ...s, conditions: s?.conditions?.map((c) => [c.type, c.status]) });
  return strip(prev) !== strip(next);
}
