// What kube-proxy's iptables mode does, for ClusterIP Services: an iptables-restore script for the nat table that
// DNATs each Service port to one of its ready endpoints, chosen at random with equal weight. All our chains start
// with RSK- so they are easy to find and remove; the entry jumps live in service-proxy.ts.
import { createHash } from 'node:crypto';
import type { EndpointSlice, Service } from './kube-types.js';

export const CHAIN_SERVICES = 'RSK-SERVICES';
export const CHAIN_POSTROUTING = 'RSK-POSTROUTING';
/** Filter-table chain (jumped to from FORWARD and OUTPUT) that rejects connections to Services without endpoints. */
export const CHAIN_NO_ENDPOINTS = 'RSK-NO-ENDPOINTS';
/** Marks hairpin traffic (a pod reaching itself through its Service) for masquerade, as kube-proxy does. */
export const MASQ_MARK = '0x4000/0x4000';

export interface Endpoint {
  ip: string;
  port: number;
}
export interface ServiceRule {
  key: string;
  clusterIP: string;
  port: number;
  protocol: 'tcp' | 'udp';
  endpoints: Endpoint[];
}

function chainName(prefix: string, key: string): string {
  return `${prefix}${createHash('sha256').update(key).digest('base64url').replace(/[-_]/g, 'x').slice(0, 16).toUpperCase()}`;
}

/** Joins Services with their EndpointSlices: one rule per (ClusterIP, port) with the ready endpoints. */
export function serviceRules(services: readonly Service[], slices: readonly EndpointSlice[]): ServiceRule[] {
  const rules: ServiceRule[] = [];
  for (const svc of services) {
    const ip = svc.spec.clusterIP;
    if (ip === undefined || ip === '' || ip === 'None' || ip.includes(':')) continue;
    const ns = svc.metadata.namespace ?? 'default';
    const mine = slices.filter(
      (s) =>
        s.addressType === 'IPv4' &&
        (s.metadata.namespace ?? 'default') === ns &&
        s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name,
    );
    for (const sp of svc.spec.ports ?? []) {
      const protocol = (sp.protocol ?? 'TCP').toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp') continue;
      const endpoints: Endpoint[] = [];
      const seen = new Set<string>();
      for (const slice of mine) {
        const port = slice.ports?.find(
          (p) => (p.name ?? '') === (sp.name ?? '') && (p.protocol ?? 'TCP').toLowerCase() === protocol,
        )?.port;
        if (port === undefined) continue;
        for (const ep of slice.endpoints ?? []) {
          if (ep.conditions?.ready === false) continue;
          for (const addr of ep.addresses) {
            const k = `${addr}:${port}`;
            if (seen.has(k)) continue;
            seen.add(k);
            endpoints.push({ ip: addr, port });
          }
        }
      }
      endpoints.sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));
      rules.push({
        key: `${ns}/${svc.metadata.name}:${sp.name ?? ''}/${protocol}`,
        clusterIP: ip,
        port: sp.port,
        protocol,
        endpoints,
      });
    }
  }
  return rules.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * The iptables-restore input (use --noflush). Declaring a chain flushes it, so every run rewrites all our chains;
 * chains that existed before and are no longer needed are flushed and deleted.
 */
export function renderNatRules(rules: readonly ServiceRule[], existingChains: readonly string[]): string {
  const chains: string[] = [CHAIN_SERVICES, CHAIN_POSTROUTING];
  const body: string[] = [`-A ${CHAIN_POSTROUTING} -m mark --mark ${MASQ_MARK} -j MASQUERADE`];
  for (const r of rules) {
    if (r.endpoints.length === 0) continue;
    const svcChain = chainName('RSK-SVC-', r.key);
    chains.push(svcChain);
    body.push(
      `-A ${CHAIN_SERVICES} -d ${r.clusterIP}/32 -p ${r.protocol} -m ${r.protocol} --dport ${r.port} -m comment --comment "${r.key}" -j ${svcChain}`,
    );
    r.endpoints.forEach((ep, i) => {
      const sep = chainName('RSK-SEP-', `${r.key}@${ep.ip}:${ep.port}`);
      chains.push(sep);
      const left = r.endpoints.length - i;
      // Endpoint i of n is taken with probability 1/(n-i) among those left: a uniform choice overall.
      if (left > 1)
        body.push(
          `-A ${svcChain} -m statistic --mode random --probability ${(1 / left).toFixed(10)} -j ${sep}`,
        );
      else body.push(`-A ${svcChain} -j ${sep}`);
      body.push(`-A ${sep} -s ${ep.ip}/32 -j MARK --set-xmark ${MASQ_MARK}`);
      body.push(`-A ${sep} -p ${r.protocol} -m ${r.protocol} -j DNAT --to-destination ${ep.ip}:${ep.port}`);
    });
  }
  const wanted = new Set(chains);
  const stale = existingChains.filter((c) => c.startsWith('RSK-') && !wanted.has(c));
  return [
    '*nat',
    ...[...chains, ...stale].map((c) => `:${c} - [0:0]`),
    ...body,
    ...stale.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * The filter table's part, as kube-proxy does it: a connection to a Service port with no ready endpoint is rejected
 * (ICMP port unreachable, so the client sees "connection refused" at once) instead of leaving the cluster IP
 * unrouted, where a SYN is dropped and the client hangs until its own timeout — grpc-js then reports only
 * "DEADLINE_EXCEEDED: Waiting for LB pick", for as long as the Service has no ready member.
 */
export function renderFilterRules(rules: readonly ServiceRule[]): string {
  const rejects = rules
    .filter((r) => r.endpoints.length === 0)
    .map(
      (r) =>
        `-A ${CHAIN_NO_ENDPOINTS} -d ${r.clusterIP}/32 -p ${r.protocol} -m ${r.protocol} --dport ${r.port} ` +
        `-m comment --comment "${r.key} has no endpoints" -j REJECT --reject-with icmp-port-unreachable`,
    );
  return ['*filter', `:${CHAIN_NO_ENDPOINTS} - [0:0]`, ...rejects, 'COMMIT', ''].join('\n');
}
