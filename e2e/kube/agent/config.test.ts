import { kubernetesServiceEnv, parseArgs } from './config.js';

describe('agent config', () => {
  it('defaults to three nodes with the contract CIDRs, distinct host IPs and kubelet back-off', () => {
    const c = parseArgs(['--state-dir', '/tmp/k'], {});
    expect(c.agentDir).toBe('/tmp/k/agent');
    expect(c.nodes.map((n) => `${n.name} ${n.podCIDR} ${n.hostIP}`)).toEqual([
      'node-1 10.244.1.0/24 10.244.0.1',
      'node-2 10.244.2.0/24 10.244.0.1',
      'node-3 10.244.3.0/24 10.244.0.1',
    ]);
    expect(c.nodes.map((n) => n.kubeletPort)).toEqual([10250, 10260, 10270]);
    expect(c.backoff.initialMs).toBe(10_000);
    expect(c.imagesFile.endsWith('/e2e/kube/images.json')).toBe(true);
  });
  it("points pods' DNS at CoreDNS's own address, not the DNATed kube-dns Service (no conntrack race)", () => {
    const c = parseArgs([], {});
    expect(c.podNameserver).toBe('10.244.0.1');
    expect(c.dnsServiceIP).toBe('10.96.0.10');
  });
  it('takes the state dir from RAFTSTORE_KUBE_DIR and --opt=value forms', () => {
    const c = parseArgs(['--backoff-initial-ms=500', '--fault-port', '0'], { RAFTSTORE_KUBE_DIR: '/s' });
    expect(c.stateDir).toBe('/s');
    expect(c.backoff).toMatchObject({ initialMs: 500, maxMs: 300_000 });
    expect(c.faultPort).toBe(0);
  });
  it('rejects unknown options and bad numbers', () => {
    expect(() => parseArgs(['--bogus', '1'], {})).toThrow(/unknown option --bogus/);
    expect(() => parseArgs(['--fault-port', 'x'], {})).toThrow(/non-negative integer/);
    expect(() => parseArgs(['--nodes', '9'], {})).toThrow(/between 1 and 3/);
  });
  it('provides the kubernetes service env', () => {
    expect(kubernetesServiceEnv('10.96.0.1')).toMatchObject({
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    });
  });
});
