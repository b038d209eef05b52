// Downward API field resolution, shared by env vars (fieldRef/resourceFieldRef) and downwardAPI volumes.
import type { ObjectFieldSelector, Pod, ResourceFieldSelector } from './kube-types.js';
import { parseQuantity } from './quantity.js';

/** What the pod object does not know yet while the worker starts it. */
export interface PodRuntimeFacts {
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** Node allocatable: the value of a limit the container does not set. */
  nodeAllocatable: Record<string, string>;
}

function mapSubscript(path: string, prefix: string): string | undefined {
  const m = new RegExp(`^${prefix.replace('.', '\\.')}\\['(.+)'\\]$`).exec(path);
  return m?.[1];
}

function renderMap(m: Record<string, string> | undefined): string {
  return Object.entries(m ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join('\n');
}

export function resolveFieldRef(pod: Pod, facts: PodRuntimeFacts, ref: ObjectFieldSelector): string {
  const p = ref.fieldPath;
  switch (p) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return renderMap(pod.metadata.labels);
    case 'metadata.annotations':
      return renderMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return facts.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return facts.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return facts.hostIP;
  }
  const label = mapSubscript(p, 'metadata.labels');
  if (label !== undefined) return pod.metadata.labels?.[label] ?? '';
  const ann = mapSubscript(p, 'metadata.annotations');
  if (ann !== undefined) return pod.metadata.annotations?.[ann] ?? '';
  throw new Error(`unsupported fieldRef fieldPath ${JSON.stringify(p)}`);
}

export function resolveResourceFieldRef(
  pod: Pod,
  facts: PodRuntimeFacts,
  defaultContainer: string,
  ref: ResourceFieldSelector,
): string {
  const name = ref.containerName ?? defaultContainer;
  const c = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === name);
  if (c === undefined) throw new Error(`resourceFieldRef: no container ${JSON.stringify(name)}`);
  const m = /^(limits|requests)\.(cpu|memory|ephemeral-storage)$/.exec(ref.resource);
  if (m === null) throw new Error(`unsupported resourceFieldRef resource ${JSON.stringify(ref.resource)}`);
  const kind = m[1] as 'limits' | 'requests';
  const res = m[2] as string;
  // As the kubelet does: an unset limit is the node's allocatable; an unset request is the limit, else 0.
  const raw =
    kind === 'limits'
      ? (c.resources?.limits?.[res] ?? facts.nodeAllocatable[res])
      : (c.resources?.requests?.[res] ?? c.resources?.limits?.[res] ?? '0');
  if (raw === undefined) throw new Error(`resourceFieldRef: node reports no allocatable ${res}`);
  const divisor = parseQuantity(ref.divisor ?? '1');
  if (divisor <= 0) throw new Error(`resourceFieldRef: divisor must be positive, got ${ref.divisor}`);
  return String(Math.ceil(parseQuantity(raw) / divisor - 1e-9));
}
