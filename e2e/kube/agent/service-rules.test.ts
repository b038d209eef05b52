import type { EndpointSlice, Service } from './kube-types.js';
import { renderFilterRules, renderNatRules, serviceRules } from './service-rules.js';

const svc = (ns: string, name: string, ip: string, ports: Service['spec']['ports']): Service => ({
  metadata: { name, namespace: ns },
  spec: { clusterIP: ip, ports },
});
const slice = (
  ns: string,
  svcName: string,
  ports: EndpointSlice['ports'],
  eps: EndpointSlice['endpoints'],
): EndpointSlice => ({
  metadata: { name: `${svcName}-x`, namespace: ns, labels: { 'kubernetes.io/service-name': svcName } },
  addressType: 'IPv4',
  ports,
  endpoints: eps,
});

describe('service rules', () => {
  const services = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
    svc('kube-system', 'kube-dns', '10.96.0.10', [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ]),
    svc('db', 'headless', 'None', [{ port: 80 }]),
    svc('db', 'web', '10.96.5.5', [{ port: 80 }]),
  ];
  const slices = [
    slice(
      'default',
      'kubernetes',
      [{ name: 'https', port: 6443, protocol: 'TCP' }],
      [{ addresses: ['10.244.0.1'] }],
    ),
    slice(
      'kube-system',
      'kube-dns',
      [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
      [{ addresses: ['10.244.0.1'], conditions: { ready: true } }],
    ),
    slice(
      'db',
      'web',
      [{ port: 8080 }],
      [
        { addresses: ['10.244.1.3'] },
        { addresses: ['10.244.2.2'], conditions: { ready: false } },
        { addresses: ['10.244.3.4'] },
      ],
    ),
  ];

  it('maps ClusterIP ports to ready endpoints via the slice port of the same name, skipping headless', () => {
    const rules = serviceRules(services, slices);
    expect(
      rules.map(
        (r) =>
          `${r.clusterIP}:${r.port}/${r.protocol} -> ${r.endpoints.map((e) => `${e.ip}:${e.port}`).join(',')}`,
      ),
    ).toEqual([
      '10.96.5.5:80/tcp -> 10.244.1.3:8080,10.244.3.4:8080',
      '10.96.0.1:443/tcp -> 10.244.0.1:6443',
      '10.96.0.10:53/tcp -> 10.244.0.1:53',
      '10.96.0.10:53/udp -> 10.244.0.1:53',
    ]);
  });
  it('renders uniform random balancing, hairpin masquerade and deletes stale chains', () => {
    const text = renderNatRules(serviceRules(services, slices), ['RSK-SVC-OLD', 'KUBE-OTHER']);
    expect(text.startsWith('*nat\n:RSK-SERVICES - [0:0]\n:RSK-POSTROUTING - [0:0]\n')).toBe(true);
    expect(text).toContain(
      '-A RSK-SERVICES -d 10.96.5.5/32 -p tcp -m tcp --dport 80 -m comment --comment "db/web:/tcp" -j RSK-SVC-',
    );
    expect(text).toMatch(/--probability 0\.5000000000 -j RSK-SEP-/);
    expect(text).toContain('-j DNAT --to-destination 10.244.3.4:8080');
    expect(text).toContain('-s 10.244.1.3/32 -j MARK --set-xmark 0x4000/0x4000');
    expect(text).toContain('-A RSK-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE');
    expect(text).toContain(':RSK-SVC-OLD - [0:0]\n');
    expect(text).toContain('-X RSK-SVC-OLD\nCOMMIT\n');
    expect(text).not.toContain('KUBE-OTHER');
    for (const m of text.matchAll(/RSK-[A-Z]+-[A-Z0-9x]+/g)) expect(m[0].length).toBeLessThanOrEqual(28);
  });
  it('rejects connections to a Service port without ready endpoints, and only those (as kube-proxy does)', () => {
    const noneReady = slice(
      'db',
      'cache',
      [{ port: 6379 }],
      [{ addresses: ['10.244.1.9'], conditions: { ready: false } }],
    );
    const rules = serviceRules(
      [...services, svc('db', 'cache', '10.96.7.7', [{ port: 6379 }])],
      [...slices, noneReady],
    );
    const text = renderFilterRules(rules);
    expect(text.split('\n')).toEqual([
      '*filter',
      ':RSK-NO-ENDPOINTS - [0:0]',
      '-A RSK-NO-ENDPOINTS -d 10.96.7.7/32 -p tcp -m tcp --dport 6379 -m comment --comment "db/cache:/tcp has no endpoints" -j REJECT --reject-with icmp-port-unreachable',
      'COMMIT',
      '',
    ]);
    // No DNAT for it either: the reject is the only rule that names its cluster IP.
    expect(renderNatRules(rules, [])).not.toContain('10.96.7.7');
  });

  it('is deterministic', () => {
    expect(renderNatRules(serviceRules(services, slices), [])).toBe(
      renderNatRules(serviceRules([...services].reverse(), slices), []),
    );
  });
});
