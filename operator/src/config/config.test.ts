import { ConfigError, parseConfig, parseListen } from './config.js';

const chartEnv = {
  POD_NAME: 'raftstore-operator-7d9-abc',
  POD_NAMESPACE: 'raftstore-system',
  RAFTSTORE_OPERATOR_LEASE_NAME: 'raftstore-operator-leader',
  RAFTSTORE_OPERATOR_LEASE_NAMESPACE: 'raftstore-system',
  RAFTSTORE_OPERATOR_LEASE_DURATION_SECONDS: '15',
  RAFTSTORE_OPERATOR_RENEW_DEADLINE_SECONDS: '10',
  RAFTSTORE_OPERATOR_RETRY_PERIOD_SECONDS: '2',
  RAFTSTORE_OPERATOR_WATCH_NAMESPACES: 'db, team-a,db',
  RAFTSTORE_OPERATOR_METRICS_LISTEN: '0.0.0.0:8080',
  RAFTSTORE_OPERATOR_HEALTH_LISTEN: '0.0.0.0:8081',
  RAFTSTORE_OPERATOR_NODE_IMAGE_REPOSITORY: 'reg.example/raftstore/node',
  RAFTSTORE_OPERATOR_LOG_LEVEL: 'debug',
};

describe('parseConfig', () => {
  test('reads every variable the Helm chart sets', () => {
    const c = parseConfig(chartEnv);
    expect(c.leaderElection).toEqual({
      enabled: true,
      leaseName: 'raftstore-operator-leader',
      leaseNamespace: 'raftstore-system',
      identity: 'raftstore-operator-7d9-abc',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    });
    expect(c.watchNamespaces).toEqual(['db', 'team-a']);
    expect(c.metricsListen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.healthListen).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(c.nodeImageRepository).toBe('reg.example/raftstore/node');
    expect(c.logLevel).toBe('debug');
  });

  test('an empty WATCH_NAMESPACES (the chart default) means all namespaces', () => {
    expect(parseConfig({ ...chartEnv, RAFTSTORE_OPERATOR_WATCH_NAMESPACES: '' }).watchNamespaces).toEqual([]);
  });

  test('out of cluster: leader election needs a namespace, or must be switched off', () => {
    expect(() => parseConfig({})).toThrow(/LEASE_NAMESPACE/);
    const c = parseConfig({ RAFTSTORE_OPERATOR_LEADER_ELECTION: 'false' });
    expect(c.leaderElection.enabled).toBe(false);
    expect(c.metricsListen.port).toBe(8080);
  });

  test('bad values name the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ RAFTSTORE_OPERATOR_LEASE_DURATION_SECONDS: 'ten' }, /LEASE_DURATION_SECONDS="ten"/],
      [{ RAFTSTORE_OPERATOR_RENEW_DEADLINE_SECONDS: '20' }, /LEASE_DURATION \(15\) > RENEW_DEADLINE \(20\)/],
      [{ RAFTSTORE_OPERATOR_METRICS_LISTEN: '8080' }, /METRICS_LISTEN="8080" is not host:port/],
      [{ RAFTSTORE_OPERATOR_LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud"/],
      [{ RAFTSTORE_OPERATOR_WATCH_NAMESPACES: 'Bad_NS' }, /"Bad_NS" is not a namespace/],
      [{ RAFTSTORE_OPERATOR_WORKERS: '0' }, /WORKERS=0 is outside 1..64/],
    ];
    for (const [over, message] of bad) {
      expect(() => parseConfig({ ...chartEnv, ...over })).toThrow(ConfigError);
      expect(() => parseConfig({ ...chartEnv, ...over })).toThrow(message);
    }
  });

  test('listen addresses: IPv6 and an empty host', () => {
    expect(parseListen('X', '[::]:9090')).toEqual({ host: '::', port: 9090 });
    expect(parseListen('X', ':9090')).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(() => parseListen('X', 'host:99999')).toThrow(/X="host:99999"/);
  });
});
