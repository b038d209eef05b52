import { renderHosts, renderResolvConf } from './dns-files.js';

describe('dns files', () => {
  it('resolv.conf searches the namespace, svc and cluster domains with ndots 5', () => {
    expect(renderResolvConf('db', { nameserver: '10.96.0.10', clusterDomain: 'cluster.local' })).toBe(
      'nameserver 10.96.0.10\nsearch db.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    );
  });
  it('hosts maps the pod hostname and its headless-service FQDN to the pod IP', () => {
    const h = renderHosts({
      podIP: '10.244.1.5',
      podName: 'web-0',
      namespace: 'db',
      hostname: 'web-0',
      subdomain: 'web',
      clusterDomain: 'cluster.local',
    });
    expect(h).toContain('10.244.1.5\tweb-0.web.db.svc.cluster.local\tweb-0\n');
    expect(h).toContain('127.0.0.1\tlocalhost');
  });
  it('hosts falls back to the pod name without a subdomain', () => {
    expect(
      renderHosts({ podIP: '10.244.2.9', podName: 'p', namespace: 'n', clusterDomain: 'c.l' }),
    ).toContain('10.244.2.9\tp\n');
  });
});
