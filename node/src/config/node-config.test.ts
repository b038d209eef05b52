import { ConfigError, describeProblem, type ConfigProblem } from './config-error.js';
import { helpRequested, parseNodeConfig, type Env } from './node-config.js';

// A minimal valid configuration: three founding members, listening on all interfaces.
const BASE = [
  '--name=node-0',
  '--cluster-id=prod',
  '--data-dir=/var/lib/raftstore',
  '--advertise-client=node-0.peers:2379',
  '--advertise-peer=node-0.peers:2380',
  '--initial-members=node-0=node-0.peers:2380,node-1=node-1.peers:2380,node-2=node-2.peers:2380',
];

/** BASE with the given flags replacing BASE's own (a flag given twice is itself an error). */
function baseWith(...flags: string[]): string[] {
  const names = new Set(flags.map((f) => f.split('=')[0]));
  return [...BASE.filter((a) => !names.has(a.split('=')[0])), ...flags];
}

function problemsOf(argv: string[], env: Env = {}): ConfigProblem[] {
  try {
    parseNodeConfig(argv, env);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** The problems' one-line descriptions, which is what a user reads. */
function messagesOf(argv: string[], env: Env = {}): string[] {
  return problemsOf(argv, env).map(describeProblem);
}

describe('parseNodeConfig defaults', () => {
  it('fills every default', () => {
    const c = parseNodeConfig(BASE, {});
    expect(c).toEqual({
      name: 'node-0',
      clusterId: 'prod',
      shard: 0,
      bootstrapShards: 1,
      shardEndpoints: { kind: 'none' },
      dataDir: '/var/lib/raftstore',
      clientListen: { host: '0.0.0.0', port: 2379 },
      peerListen: { host: '0.0.0.0', port: 2380 },
      httpListen: { host: '0.0.0.0', port: 8080 },
      advertiseClient: { host: 'node-0.peers', port: 2379 },
      advertisePeer: { host: 'node-0.peers', port: 2380 },
      initialMembers: [
        { name: 'node-0', peerAddress: { host: 'node-0.peers', port: 2380 } },
        { name: 'node-1', peerAddress: { host: 'node-1.peers', port: 2380 } },
        { name: 'node-2', peerAddress: { host: 'node-2.peers', port: 2380 } },
      ],
      initialClusterState: 'new',
      tickMs: 100,
      // Tracing is a diagnostic mode, off unless asked for.
      traceWrites: '',
      traceSample: 16,
      // Plaintext unless all three TLS files are given.
      maxInFlightBytes: 64 * 1024 * 1024,
      tlsCaFile: '',
      tlsCertFile: '',
      tlsKeyFile: '',
      electionTicks: 10,
      heartbeatTicks: 1,
      snapshotEntries: 10_000,
      snapshotRetainEntries: 5_000,
      maxKeyBytes: 4096,
      maxValueBytes: 1_048_576,
      maxTxnOps: 128,
      maxRequestBytes: 1_572_864,
      maxUncommittedBytes: 64 * 1024 * 1024,
      requestTimeoutMs: 5000,
      shutdownGraceMs: 10_000,
      logLevel: 'info',
      fsync: true,
    });
  });

  it('reads every setting from flags', () => {
    const c = parseNodeConfig(
      [
        ...BASE,
        '--shard=7',
        '--client-listen=10.0.0.5:3379',
        '--peer-listen=10.0.0.5:3380',
        '--http-listen=127.0.0.1:9090',
        '--tick-ms=50',
        '--election-ticks=20',
        '--heartbeat-ticks=2',
        '--snapshot-entries=100',
        '--snapshot-retain-entries=0',
        '--max-key-bytes=100',
        '--max-value-bytes=1000',
        '--max-txn-ops=4',
        '--max-request-bytes=2000',
        '--max-uncommitted-bytes=2000',
        '--request-timeout-ms=3000',
        '--shutdown-grace-ms=0',
        '--log-level=debug',
        '--fsync=false',
      ],
      {},
    );
    expect(c).toMatchObject({
      shard: 7,
      clientListen: { host: '10.0.0.5', port: 3379 },
      peerListen: { host: '10.0.0.5', port: 3380 },
      httpListen: { host: '127.0.0.1', port: 9090 },
      tickMs: 50,
      electionTicks: 20,
      heartbeatTicks: 2,
      snapshotEntries: 100,
      snapshotRetainEntries: 0,
      maxKeyBytes: 100,
      maxValueBytes: 1000,
      maxTxnOps: 4,
      maxRequestBytes: 2000,
      maxUncommittedBytes: 2000,
      requestTimeoutMs: 3000,
      shutdownGraceMs: 0,
      logLevel: 'debug',
      fsync: false,
    });
  });
});

describe('flags and environment', () => {
  const env: Env = {
    RAFTSTORE_NAME: 'node-1',
    RAFTSTORE_CLUSTER_ID: 'from-env',
    RAFTSTORE_DATA_DIR: '/data',
    RAFTSTORE_ADVERTISE_CLIENT: 'node-1.peers:2379',
    RAFTSTORE_ADVERTISE_PEER: 'node-1.peers:2380',
    RAFTSTORE_INITIAL_MEMBERS: 'node-1=node-1.peers:2380',
    RAFTSTORE_SHARD: '3',
    RAFTSTORE_FSYNC: 'false',
  };

  it('reads settings from RAFTSTORE_* variables', () => {
    expect(parseNodeConfig([], env)).toMatchObject({
      name: 'node-1',
      clusterId: 'from-env',
      shard: 3,
      fsync: false,
    });
  });

  it('lets a flag win over its variable', () => {
    expect(parseNodeConfig(['--shard=5', '--cluster-id=from-flag', '--fsync'], env)).toMatchObject({
      shard: 5,
      clusterId: 'from-flag',
      fsync: true,
    });
  });

  it('does not validate a variable a flag overrides', () => {
    expect(parseNodeConfig(['--shard=5'], { ...env, RAFTSTORE_SHARD: 'garbage' }).shard).toBe(5);
  });

  it('treats an empty variable as unset', () => {
    expect(parseNodeConfig([], { ...env, RAFTSTORE_SHARD: '' }).shard).toBe(0);
    expect(messagesOf([], { ...env, RAFTSTORE_NAME: '' })).toContain(
      '--name (RAFTSTORE_NAME): required: set --name or RAFTSTORE_NAME',
    );
  });

  it('ignores unknown variables such as Kubernetes service links', () => {
    expect(() =>
      parseNodeConfig([], { ...env, RAFTSTORE_PORT: 'tcp://10.0.0.1:2379', RAFTSTORE_BOGUS: 'x' }),
    ).not.toThrow();
  });

  it('says whether a bad value came from the flag or the variable', () => {
    expect(messagesOf(['--tick-ms=0'], env)).toEqual([
      '--tick-ms (RAFTSTORE_TICK_MS): got "0" from --tick-ms; expected an integer from 1 to 10000',
    ]);
    expect(messagesOf([], { ...env, RAFTSTORE_TICK_MS: 'fast' })).toEqual([
      '--tick-ms (RAFTSTORE_TICK_MS): got "fast" from environment variable RAFTSTORE_TICK_MS; expected an integer from 1 to 10000',
    ]);
  });
});

describe('single-setting rules', () => {
  it.each([
    ['--name=Node_0', '--name (RAFTSTORE_NAME): got "Node_0" from --name; expected a DNS-1123 label'],
    [
      '--cluster-id=a b',
      '--cluster-id (RAFTSTORE_CLUSTER_ID): got "a b" from --cluster-id; expected 1 to 128',
    ],
    ['--shard=-1', '--shard (RAFTSTORE_SHARD): got "-1" from --shard; expected an integer from 0 to 4095'],
    ['--shard=4096', '--shard (RAFTSTORE_SHARD): got "4096"'],
    ['--data-dir=', '--data-dir (RAFTSTORE_DATA_DIR): got "" from --data-dir; expected a non-empty path'],
    [
      '--client-listen=2379',
      '--client-listen (RAFTSTORE_CLIENT_LISTEN): got "2379" from --client-listen; expected host:port',
    ],
    ['--peer-listen=h:99999', '--peer-listen (RAFTSTORE_PEER_LISTEN): got "h:99999"'],
    ['--http-listen=http://h:80', '--http-listen (RAFTSTORE_HTTP_LISTEN): got "http://h:80"'],
    [
      '--initial-cluster-state=join',
      '--initial-cluster-state (RAFTSTORE_INITIAL_CLUSTER_STATE): got "join" from --initial-cluster-state; expected one of new, existing',
    ],
    ['--tick-ms=10001', '--tick-ms (RAFTSTORE_TICK_MS): got "10001"'],
    ['--election-ticks=1', '--election-ticks (RAFTSTORE_ELECTION_TICKS): got "1"'],
    ['--heartbeat-ticks=0', '--heartbeat-ticks (RAFTSTORE_HEARTBEAT_TICKS): got "0"'],
    ['--snapshot-entries=0', '--snapshot-entries (RAFTSTORE_SNAPSHOT_ENTRIES): got "0"'],
    ['--snapshot-retain-entries=x', '--snapshot-retain-entries (RAFTSTORE_SNAPSHOT_RETAIN_ENTRIES): got "x"'],
    ['--max-key-bytes=0', '--max-key-bytes (RAFTSTORE_MAX_KEY_BYTES): got "0"'],
    ['--max-value-bytes=1MiB', '--max-value-bytes (RAFTSTORE_MAX_VALUE_BYTES): got "1MiB"'],
    ['--max-txn-ops=0', '--max-txn-ops (RAFTSTORE_MAX_TXN_OPS): got "0"'],
    ['--max-request-bytes=134217729', '--max-request-bytes (RAFTSTORE_MAX_REQUEST_BYTES): got "134217729"'],
    ['--max-uncommitted-bytes=0', '--max-uncommitted-bytes (RAFTSTORE_MAX_UNCOMMITTED_BYTES): got "0"'],
    ['--request-timeout-ms=0', '--request-timeout-ms (RAFTSTORE_REQUEST_TIMEOUT_MS): got "0"'],
    ['--shutdown-grace-ms=600001', '--shutdown-grace-ms (RAFTSTORE_SHUTDOWN_GRACE_MS): got "600001"'],
    [
      '--log-level=verbose',
      '--log-level (RAFTSTORE_LOG_LEVEL): got "verbose" from --log-level; expected one of fatal, error, warn, info, debug, trace, silent',
    ],
    ['--fsync=no', '--fsync (RAFTSTORE_FSYNC): got "no" from --fsync; expected true or false'],
  ])('%s is refused with a message naming flag, variable, value and expectation', (flag, message) => {
    const messages = messagesOf(baseWith(flag));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(message);
  });

  it('requires name, cluster id and data dir', () => {
    expect(messagesOf(BASE.slice(3))).toEqual([
      '--name (RAFTSTORE_NAME): required: set --name or RAFTSTORE_NAME',
      '--cluster-id (RAFTSTORE_CLUSTER_ID): required: set --cluster-id or RAFTSTORE_CLUSTER_ID',
      '--data-dir (RAFTSTORE_DATA_DIR): required: set --data-dir or RAFTSTORE_DATA_DIR',
    ]);
  });

  it('reports unknown flags, positional arguments and repeated flags', () => {
    expect(messagesOf([...BASE, '--sahrd=1', 'extra', '--shard=1', '--shard=2'])).toEqual([
      '--sahrd: unknown flag (see --help); did you mean --shard (RAFTSTORE_SHARD)?',
      'extra: unexpected argument: flags start with --, and values follow --flag= or --flag',
      '--shard (RAFTSTORE_SHARD): got "2" from --shard; expected the flag at most once (it was already given as "1")',
    ]);
  });
});

describe('cross-field rules', () => {
  it('takes mutual TLS from all three files, and names the missing ones when only some are given', () => {
    const tls = ['--tls-ca-file=/tls/ca.crt', '--tls-cert-file=/tls/tls.crt', '--tls-key-file=/tls/tls.key'];
    expect(parseNodeConfig([...BASE, ...tls], {})).toMatchObject({
      tlsCaFile: '/tls/ca.crt',
      tlsCertFile: '/tls/tls.crt',
      tlsKeyFile: '/tls/tls.key',
    });
    expect(messagesOf([...BASE, tls[1]!], { RAFTSTORE_TLS_CA_FILE: '/tls/ca.crt' })).toEqual([
      '--tls-key-file (RAFTSTORE_TLS_KEY_FILE): required with --tls-ca-file and --tls-cert-file: mutual TLS needs all three files (none for plaintext)',
    ]);
  });

  it('requires fewer heartbeat ticks than election ticks', () => {
    expect(messagesOf([...BASE, '--heartbeat-ticks=10'])).toEqual([
      '--heartbeat-ticks (RAFTSTORE_HEARTBEAT_TICKS): got "10" from --heartbeat-ticks; expected fewer ticks than --election-ticks (10)',
    ]);
    expect(parseNodeConfig([...BASE, '--heartbeat-ticks=9'], {}).heartbeatTicks).toBe(9);
  });

  it('requires the request limit to exceed key + value limits', () => {
    expect(
      messagesOf([...BASE, '--max-key-bytes=10', '--max-value-bytes=90', '--max-request-bytes=100']),
    ).toEqual([
      '--max-request-bytes (RAFTSTORE_MAX_REQUEST_BYTES): got "100" from --max-request-bytes; expected more than --max-key-bytes + --max-value-bytes (10 + 90 = 100)',
    ]);
    expect(
      parseNodeConfig([...BASE, '--max-key-bytes=10', '--max-value-bytes=90', '--max-request-bytes=101'], {})
        .maxRequestBytes,
    ).toBe(101);
  });

  it('catches a default that a changed value makes inconsistent, and says it is the default', () => {
    expect(messagesOf([...BASE, '--max-value-bytes=2000000'])).toEqual([
      '--max-request-bytes (RAFTSTORE_MAX_REQUEST_BYTES): got "1572864" as the built-in default; expected more than --max-key-bytes + --max-value-bytes (4096 + 2000000 = 2004096)',
    ]);
  });

  it('requires the uncommitted-bytes bound to hold at least one largest request', () => {
    expect(messagesOf([...BASE, '--max-uncommitted-bytes=1572863'])).toEqual([
      '--max-uncommitted-bytes (RAFTSTORE_MAX_UNCOMMITTED_BYTES): got "1572863" from --max-uncommitted-bytes; expected at least --max-request-bytes (1572864)',
    ]);
  });

  it('requires distinct listen ports on overlapping hosts', () => {
    expect(messagesOf([...BASE, '--http-listen=127.0.0.1:2380'])).toEqual([
      '--http-listen (RAFTSTORE_HTTP_LISTEN): got "127.0.0.1:2380" from --http-listen; expected a port other than --peer-listen\'s (0.0.0.0:2380)',
    ]);
    expect(
      messagesOf([
        ...BASE,
        '--client-listen=0.0.0.0:1',
        '--peer-listen=0.0.0.0:1',
        '--http-listen=0.0.0.0:1',
      ]),
    ).toHaveLength(3);
    // Different specific hosts, and port 0 (the OS picks), never clash.
    expect(() =>
      parseNodeConfig(
        [...BASE, '--client-listen=10.0.0.1:1', '--peer-listen=10.0.0.2:1', '--http-listen=127.0.0.1:0'],
        {},
      ),
    ).not.toThrow();
  });

  it('derives advertise addresses from specific listen addresses', () => {
    const c = parseNodeConfig(
      [
        '--name=a',
        '--cluster-id=c',
        '--data-dir=/d',
        '--client-listen=10.0.0.1:2379',
        '--peer-listen=[fd00::1]:2380',
        '--initial-members=a=[fd00::1]:2380',
      ],
      {},
    );
    expect(c.advertiseClient).toEqual({ host: '10.0.0.1', port: 2379 });
    expect(c.advertisePeer).toEqual({ host: 'fd00::1', port: 2380 });
  });

  it('requires advertise addresses when the listen host is a wildcard or the port is 0', () => {
    const argv = [
      '--name=a',
      '--cluster-id=c',
      '--data-dir=/d',
      '--initial-members=a=h:1',
      '--peer-listen=[::]:2380',
    ];
    expect(messagesOf(argv)).toEqual([
      "--advertise-client (RAFTSTORE_ADVERTISE_CLIENT): required because --client-listen is 0.0.0.0:2379, which other members cannot dial: set --advertise-client or RAFTSTORE_ADVERTISE_CLIENT to this member's reachable host:port (in Kubernetes, its stable DNS name)",
      "--advertise-peer (RAFTSTORE_ADVERTISE_PEER): required because --peer-listen is [::]:2380, which other members cannot dial: set --advertise-peer or RAFTSTORE_ADVERTISE_PEER to this member's reachable host:port (in Kubernetes, its stable DNS name)",
    ]);
    expect(messagesOf([...argv, '--client-listen=127.0.0.1:0', '--advertise-peer=h:1'])).toEqual([
      expect.stringContaining(
        '--advertise-client (RAFTSTORE_ADVERTISE_CLIENT): required because --client-listen is 127.0.0.1:0',
      ),
    ]);
  });

  it('refuses advertise addresses nobody can dial', () => {
    expect(messagesOf(baseWith('--advertise-client=0.0.0.0:2379'))).toEqual([
      '--advertise-client (RAFTSTORE_ADVERTISE_CLIENT): got "0.0.0.0:2379" from --advertise-client; expected an address others can dial: not 0.0.0.0 or :: and not port 0',
    ]);
    expect(messagesOf(baseWith('--advertise-client=h:0'))).toHaveLength(1);
  });

  it('requires initial members for a new cluster, including this member at its advertised peer address', () => {
    const withoutMembers = BASE.filter((a) => !a.startsWith('--initial-members'));
    expect(messagesOf(withoutMembers)).toEqual([
      '--initial-members (RAFTSTORE_INITIAL_MEMBERS): required with --initial-cluster-state=new: the founding members as name=host:port,...',
    ]);
    expect(messagesOf([...withoutMembers, '--initial-members=node-1=h:1'])).toEqual([
      '--initial-members (RAFTSTORE_INITIAL_MEMBERS): got "node-1=h:1" from --initial-members; expected a list that includes this member (--name node-0) when founding a new cluster',
    ]);
    expect(messagesOf([...withoutMembers, '--initial-members=node-0=other:2380'])).toEqual([
      '--initial-members (RAFTSTORE_INITIAL_MEMBERS): got "node-0=other:2380" from --initial-members; expected node-0\'s entry to match --advertise-peer (node-0.peers:2380), not other:2380',
    ]);
  });

  it('lets an existing-cluster member start without initial members, or with a list that omits it', () => {
    const withoutMembers = BASE.filter((a) => !a.startsWith('--initial-members'));
    const c = parseNodeConfig([...withoutMembers, '--initial-cluster-state=existing'], {});
    expect(c.initialMembers).toEqual([]);
    expect(c.initialClusterState).toBe('existing');
    expect(
      parseNodeConfig(
        [...withoutMembers, '--initial-cluster-state=existing', '--initial-members=node-1=h:1'],
        {},
      ).initialMembers,
    ).toHaveLength(1);
  });

  it('does not pile cross-field errors on top of a setting that failed to parse', () => {
    expect(messagesOf([...BASE, '--election-ticks=x', '--heartbeat-ticks=50'])).toEqual([
      '--election-ticks (RAFTSTORE_ELECTION_TICKS): got "x" from --election-ticks; expected an integer from 2 to 10000',
    ]);
  });
});

describe('ConfigError', () => {
  it('reports every problem at once in one readable message', () => {
    let error: unknown;
    try {
      parseNodeConfig(['--shard=x', '--tick-ms=0', '--log-level=loud'], { RAFTSTORE_CLUSTER_ID: 'c' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toBe(
      [
        'invalid configuration (8 problems):',
        '  - --name (RAFTSTORE_NAME): required: set --name or RAFTSTORE_NAME',
        '  - --shard (RAFTSTORE_SHARD): got "x" from --shard; expected an integer from 0 to 4095',
        '  - --data-dir (RAFTSTORE_DATA_DIR): required: set --data-dir or RAFTSTORE_DATA_DIR',
        '  - --tick-ms (RAFTSTORE_TICK_MS): got "0" from --tick-ms; expected an integer from 1 to 10000',
        '  - --log-level (RAFTSTORE_LOG_LEVEL): got "loud" from --log-level; expected one of fatal, error, warn, info, debug, trace, silent',
        "  - --advertise-client (RAFTSTORE_ADVERTISE_CLIENT): required because --client-listen is 0.0.0.0:2379, which other members cannot dial: set --advertise-client or RAFTSTORE_ADVERTISE_CLIENT to this member's reachable host:port (in Kubernetes, its stable DNS name)",
        "  - --advertise-peer (RAFTSTORE_ADVERTISE_PEER): required because --peer-listen is 0.0.0.0:2380, which other members cannot dial: set --advertise-peer or RAFTSTORE_ADVERTISE_PEER to this member's reachable host:port (in Kubernetes, its stable DNS name)",
        '  - --initial-members (RAFTSTORE_INITIAL_MEMBERS): required with --initial-cluster-state=new: the founding members as name=host:port,...',
        'Run with --help to list every flag.',
      ].join('\n'),
    );
    expect((error as ConfigError).problems).toHaveLength(8);
  });

  it('refuses to be built without problems', () => {
    expect(() => new ConfigError([])).toThrow(/at least one problem/);
  });
});

describe('helpRequested', () => {
  it('spots --help and -h even beside invalid flags', () => {
    expect(helpRequested(['--bogus', '-h'])).toBe(true);
    expect(helpRequested(['--help'])).toBe(true);
    expect(helpRequested(BASE)).toBe(false);
  });
});
