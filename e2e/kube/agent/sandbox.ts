// A pod's sandbox: its own network namespace with a veth on the bridge, a /32 address from the node's pod CIDR and a
// default route via the bridge address, plus the resolv.conf and hosts that `ip netns exec` puts over /etc.
// Pods use a /32 and an on-link gateway so that ALL their traffic, pod-to-pod included, is routed through the host:
// the service proxy's DNAT in PREROUTING then sees both directions without bridge netfilter.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { run } from './exec.js';
import { renderHosts, renderResolvConf, type DnsSettings } from './dns-files.js';

export interface NetworkSettings {
  bridge: string;
  gateway: string;
  dns: DnsSettings;
}

export interface SandboxNames {
  netns: string;
  hostVeth: string;
}

export const NETNS_PREFIX = 'rsk-';
export const VETH_PREFIX = 'rskv';

/** Names derive from the pod UID: stable across agent restarts and at most 15 bytes for the interface name. */
export function sandboxNames(podUID: string): SandboxNames {
  const h = createHash('sha256').update(podUID).digest('hex');
  return { netns: `${NETNS_PREFIX}${h.slice(0, 12)}`, hostVeth: `${VETH_PREFIX}${h.slice(0, 11)}` };
}

export interface SandboxSpec {
  podUID: string;
  podName: string;
  namespace: string;
  hostname?: string;
  subdomain?: string;
  podIP: string;
}

export async function createSandbox(net: NetworkSettings, s: SandboxSpec): Promise<SandboxNames> {
  const n = sandboxNames(s.podUID);
  // Leftovers of an interrupted attempt would make `ip netns add` fail; start clean.
  await destroySandbox(n);
  const etc = `/etc/netns/${n.netns}`;
  await mkdir(etc, { recursive: true });
  await writeFile(`${etc}/resolv.conf`, renderResolvConf(s.namespace, net.dns));
  await writeFile(
    `${etc}/hosts`,
    renderHosts({
      podIP: s.podIP,
      podName: s.podName,
      namespace: s.namespace,
      hostname: s.hostname,
      subdomain: s.subdomain,
      clusterDomain: net.dns.clusterDomain,
    }),
  );
  await writeFile(`${etc}/hostname`, `${s.hostname ?? s.podName}\n`);
  await run(['ip', 'netns', 'add', n.netns]);
  // The pod's MAC derives from its IP: a pod recreated with the same IP (a StatefulSet pod) then matches the host's
  // neighbour entry, which would otherwise point at the old veth for a while and time out connections.
  await run([
    'ip',
    'link',
    'add',
    n.hostVeth,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'address',
    podMac(s.podIP),
    'netns',
    n.netns,
  ]);
  await run(['ip', 'link', 'set', n.hostVeth, 'master', net.bridge, 'up']);
  // Hairpin, as the kubelet's hairpin-veth mode: with bridge netfilter on, a pod reaching itself through a Service
  // is DNATed back to its own port and the bridge would drop the frame instead of sending it back out.
  await run(['ip', 'link', 'set', n.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on']);
  await run(['ip', '-n', n.netns, '-batch', '-'], {
    input: [
      'link set lo up',
      `addr add ${s.podIP}/32 dev eth0`,
      'link set eth0 up',
      `route add ${net.gateway} dev eth0 scope link`,
      `route add default via ${net.gateway} dev eth0 onlink`,
      '',
    ].join('\n'),
  });
  await run(['ip', 'neigh', 'del', s.podIP, 'dev', net.bridge], { allowFailure: true });
  return n;
}

/** 0a:58 (locally administered, as OVN-Kubernetes does) followed by the four bytes of the IPv4 address. */
export function podMac(ip: string): string {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`invalid pod IP ${ip}`);
  return ['0a', '58', ...parts.map((p) => p.toString(16).padStart(2, '0'))].join(':');
}

/** Kills whatever still runs in the namespace, then removes it (which removes the veth pair) and its /etc files. */
export async function destroySandbox(n: SandboxNames): Promise<void> {
  const pids = await run(['ip', 'netns', 'pids', n.netns], { allowFailure: true });
  for (const pid of pids.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await run(['ip', 'netns', 'del', n.netns], { allowFailure: true });
  await run(['ip', 'link', 'del', n.hostVeth], { allowFailure: true });
  await rm(`/etc/netns/${n.netns}`, { recursive: true, force: true });
}

/** Every network namespace and veth we own, for cleaning up after a crashed run and at shutdown. */
export async function listOwnedSandboxes(): Promise<{ netns: string[]; veths: string[] }> {
  const ns = await run(['ip', 'netns', 'list'], { allowFailure: true });
  const links = await run(['ip', '-o', 'link', 'show'], { allowFailure: true });
  return {
    netns: ns.stdout
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((x) => x.startsWith(NETNS_PREFIX)),
    veths: [...links.stdout.matchAll(/^\d+: ([^:@]+)[@:]/gm)]
      .map((m) => m[1] ?? '')
      .filter((x) => x.startsWith(VETH_PREFIX)),
  };
}

export async function destroyAllOwned(): Promise<number> {
  const { netns, veths } = await listOwnedSandboxes();
  for (const ns of netns)
    await destroySandbox({
      netns: ns,
      hostVeth: `${VETH_PREFIX}${ns.slice(NETNS_PREFIX.length, NETNS_PREFIX.length + 11)}`,
    });
  for (const v of veths) await run(['ip', 'link', 'del', v], { allowFailure: true });
  return netns.length;
}

/** Partition: drop the pod's traffic with other pods and Services (all, or only the given peer IPs), keeping the host (API server, DNS, probes) reachable. */
export async function partition(
  n: SandboxNames,
  net: NetworkSettings,
  podCidr: string,
  serviceCidr: string,
  keepServiceIPs: readonly string[],
  peers: readonly string[],
): Promise<void> {
  const rules = [
    '*filter',
    ':RSK-PARTITION - [0:0]',
    `-A RSK-PARTITION -s ${net.gateway}/32 -j RETURN`,
    `-A RSK-PARTITION -d ${net.gateway}/32 -j RETURN`,
  ];
  if (peers.length > 0) {
    for (const p of peers)
      rules.push(`-A RSK-PARTITION -s ${p}/32 -j DROP`, `-A RSK-PARTITION -d ${p}/32 -j DROP`);
  } else {
    for (const ip of keepServiceIPs)
      rules.push(`-A RSK-PARTITION -d ${ip}/32 -j RETURN`, `-A RSK-PARTITION -s ${ip}/32 -j RETURN`);
    rules.push(
      `-A RSK-PARTITION -s ${podCidr} -j DROP`,
      `-A RSK-PARTITION -d ${podCidr} -j DROP`,
      `-A RSK-PARTITION -d ${serviceCidr} -j DROP`,
      `-A RSK-PARTITION -s ${serviceCidr} -j DROP`,
    );
  }
  rules.push('COMMIT', '');
  await run(['ip', 'netns', 'exec', n.netns, 'iptables-restore', '--noflush'], { input: rules.join('\n') });
  for (const chain of ['INPUT', 'OUTPUT']) {
    const has = await run(['ip', 'netns', 'exec', n.netns, 'iptables', '-C', chain, '-j', 'RSK-PARTITION'], {
      allowFailure: true,
    });
    if (has.code !== 0)
      await run(['ip', 'netns', 'exec', n.netns, 'iptables', '-I', chain, '1', '-j', 'RSK-PARTITION']);
  }
}

export async function heal(n: SandboxNames): Promise<void> {
  for (const chain of ['INPUT', 'OUTPUT']) {
    await run(['ip', 'netns', 'exec', n.netns, 'iptables', '-D', chain, '-j', 'RSK-PARTITION'], {
      allowFailure: true,
    });
  }
  await run(['ip', 'netns', 'exec', n.netns, 'iptables', '-F', 'RSK-PARTITION'], { allowFailure: true });
  await run(['ip', 'netns', 'exec', n.netns, 'iptables', '-X', 'RSK-PARTITION'], { allowFailure: true });
}
