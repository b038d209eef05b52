// /etc/resolv.conf and /etc/hosts for a pod, as `ip netns exec` bind-mounts them from /etc/netns/<ns>/ over /etc.

export interface DnsSettings {
  nameserver: string;
  clusterDomain: string;
}

/** Same search path and ndots the kubelet writes for dnsPolicy ClusterFirst. */
export function renderResolvConf(namespace: string, dns: DnsSettings): string {
  const d = dns.clusterDomain;
  return [
    `nameserver ${dns.nameserver}`,
    `search ${namespace}.svc.${d} svc.${d} ${d}`,
    'options ndots:5',
    '',
  ].join('\n');
}

export interface HostsInput {
  podIP: string;
  podName: string;
  namespace: string;
  hostname?: string;
  subdomain?: string;
  clusterDomain: string;
}

/** Like the kubelet's managed hosts file: the pod's own name (and FQDN under its headless Service) maps to its IP. */
export function renderHosts(h: HostsInput): string {
  const host = h.hostname ?? h.podName;
  const names =
    h.subdomain !== undefined && h.subdomain !== ''
      ? [`${host}.${h.subdomain}.${h.namespace}.svc.${h.clusterDomain}`, host]
      : [host];
  return [
    '# Kubernetes-managed hosts file (raftstore node agent).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `${h.podIP}\t${names.join('\t')}`,
    '',
  ].join('\n');
}
