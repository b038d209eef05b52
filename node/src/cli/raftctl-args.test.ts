import { MemberRole, StatusResponse } from '../../shared/api/generated/raftstore/v1/cluster.js';
import { dataFormatChangeText, statusJson, statusTable } from './raftctl-output.js';
import { parseDurationMs, parseRaftctlArgs, UsageError } from './raftctl-args.js';
import { renderTable } from './table.js';

const parse = (...argv: string[]) => parseRaftctlArgs(argv, {});

describe('raftctl arguments', () => {
  test('global options with defaults, flags and the environment', () => {
    expect(parse('status').options).toEqual({
      endpoints: ['127.0.0.1:2379'],
      // Unset: keys go to the shard that owns their slot, scans cover every shard.
      shard: undefined,
      timeoutMs: 5000,
      output: 'table',
      security: { mode: 'plaintext' },
    });
    expect(parseRaftctlArgs(['status'], { RAFTCTL_ENDPOINTS: 'a:1,b:2' }).options.endpoints).toEqual([
      'a:1',
      'b:2',
    ]);
    const o = parse('--endpoints=x:1', '--shard', '2', '--timeout', '250ms', '-w', 'json', 'status').options;
    expect(o).toEqual({
      endpoints: ['x:1'],
      shard: 2,
      timeoutMs: 250,
      output: 'json',
      security: { mode: 'plaintext' },
    });
  });

  test('mutual TLS from --cacert, --cert and --key (or the environment), all three or none', () => {
    const files = { caFile: '/t/ca.crt', certFile: '/t/me.crt', keyFile: '/t/me.key' };
    expect(
      parse('--cacert', '/t/ca.crt', '--cert=/t/me.crt', '--key', '/t/me.key', 'status').options.security,
    ).toEqual({ mode: 'mutualTls', files });
    const env = { RAFTCTL_CACERT: '/t/ca.crt', RAFTCTL_CERT: '/t/me.crt', RAFTCTL_KEY: '/t/me.key' };
    expect(parseRaftctlArgs(['status'], env).options.security).toEqual({ mode: 'mutualTls', files });
    expect(() => parse('--cacert', '/t/ca.crt', 'status')).toThrow(
      'mutual TLS needs a CA, a certificate and a key file; missing: certFile, keyFile (--cacert, --cert, --key)',
    );
  });

  test('commands', () => {
    expect(parse('put', 'k', 'v').command).toEqual({ kind: 'put', key: 'k', value: 'v' });
    expect(parse('get', 'k', '--serializable').command).toEqual({
      kind: 'get',
      key: 'k',
      serializable: true,
    });
    expect(parse('del', 'p/', '--prefix').command).toEqual({ kind: 'del', key: 'p/', prefix: true });
    expect(parse('range', 'a', 'z', '--limit', '10').command).toMatchObject({
      kind: 'range',
      start: 'a',
      end: 'z',
      limit: 10,
    });
    expect(parse('member', 'list').command).toEqual({ kind: 'memberList' });
    expect(
      parse('member', 'add', 'm3', '--id', 'm3-1', '--peer-url', 'h:2380', '--client-url', 'h:2379').command,
    ).toEqual({
      kind: 'memberAdd',
      name: 'm3',
      id: 'm3-1',
      peerUrl: 'h:2380',
      clientUrl: 'h:2379',
    });
    expect(parse('transfer-leader').command).toEqual({ kind: 'transferLeader', to: '' });
    expect(parse('--endpoints', 'h:2379', 'member', 'force-new-cluster', 'kv-0').command).toEqual({
      kind: 'memberForceNewCluster',
      name: 'kv-0',
    });
    expect(parse('--', 'put', '-k', '-v').command).toEqual({ kind: 'put', key: '-k', value: '-v' });
    expect(parse('data-format', 'set', '2')).toMatchObject({
      options: { shard: undefined },
      command: { kind: 'dataFormatSet', format: 2 },
    });
    expect(parse('data-format', 'set', '1', '--shard', '3')).toMatchObject({
      options: { shard: 3 },
      command: { kind: 'dataFormatSet', format: 1 },
    });
    expect(parse().command).toEqual({ kind: 'help' });
  });

  test('errors say what is wrong', () => {
    expect(() => parse('put', 'k')).toThrow(new UsageError('usage: raftctl put KEY VALUE'));
    expect(() => parse('frobnicate')).toThrow(/unknown command "frobnicate"/);
    expect(() => parse('--bogus', 'status')).toThrow(/unknown option --bogus/);
    expect(() => parse('--endpoints', 'nohost', 'status')).toThrow(/"nohost" is not host:port/);
    expect(() => parse('-w', 'yaml', 'status')).toThrow(/table or json/);
    expect(() => parse('range', 'a', 'b', '--prefix')).toThrow(/--prefix takes no END/);
    expect(() => parse('member', 'add', 'x')).toThrow(/--peer-url/);
    expect(() => parse('--endpoints', 'a:1,b:2', 'member', 'force-new-cluster', 'kv-0')).toThrow(
      new UsageError(
        'member force-new-cluster talks to one member only: give its endpoint alone in --endpoints',
      ),
    );
    expect(() => parse('member', 'force-new-cluster')).toThrow(/force-new-cluster NAME/);
    expect(() => parse('--timeout', '0s', 'status')).toThrow(/positive/);
    const dataFormatUsage = new UsageError('usage: raftctl data-format set N [--shard S]');
    expect(() => parse('data-format', 'set')).toThrow(dataFormatUsage);
    expect(() => parse('data-format', 'get', '2')).toThrow(dataFormatUsage);
    expect(() => parse('data-format', 'set', 'two')).toThrow(
      new UsageError('data-format set needs a positive integer, got "two"'),
    );
    expect(() => parse('data-format', 'set', '0')).toThrow(/positive integer/);
    expect(() => parse('data-format', 'set', '4294967298')).toThrow(
      new UsageError('data-format set: 4294967298 is not a data format (at most 255)'),
    );
  });

  test('durations', () => {
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('10')).toBe(10_000);
    expect(() => parseDurationMs('soon')).toThrow(UsageError);
  });

  test('tables align every column', () => {
    expect(renderTable(['A', 'LONG'], [['xyz', '1']])).toBe(
      ['+-----+------+', '| A   | LONG |', '+-----+------+', '| xyz | 1    |', '+-----+------+'].join('\n'),
    );
  });
});

import { parseTxnSpec } from './txn-spec.js';

describe('raftctl txn JSON', () => {
  test('a compare-and-swap parses into the wire request', () => {
    const spec = parseTxnSpec(
      JSON.stringify({
        compare: [{ key: 'k', target: 'value', op: '=', value: 'old' }],
        success: [{ put: { key: 'k', value: 'new' } }],
        failure: [{ get: { key: 'k' } }],
      }),
      0,
    );
    expect(spec.compare).toHaveLength(1);
    expect(spec.compare[0]!.target).toEqual({ $case: 'value', value: new TextEncoder().encode('old') });
    expect(spec.success[0]!.op?.$case).toBe('put');
    expect(spec.failure[0]!.op?.$case).toBe('range');
  });

  test('mistakes are named precisely', () => {
    expect(() => parseTxnSpec('{', 0)).toThrow(/not valid JSON/);
    expect(() => parseTxnSpec('{"compare":[{"key":"k","target":"value","op":"~","value":"x"}]}', 0)).toThrow(
      /compare\[0\]\.op/,
    );
    expect(() => parseTxnSpec('{"success":[{"frob":{}}]}', 0)).toThrow(
      /success\[0\] needs one of put, delete, get/,
    );
    expect(() => parseTxnSpec('{"compare":[{"key":"k","target":"version","op":"=","value":-1}]}', 0)).toThrow(
      /non-negative/,
    );
  });
});

describe('raftctl output', () => {
  const status = (overrides: Partial<StatusResponse>): StatusResponse =>
    StatusResponse.fromPartial({
      member: 'demo-0',
      id: 'demo-0',
      role: MemberRole.MEMBER_ROLE_LEADER,
      leader: 'demo-0',
      term: 2,
      commit: 9,
      applied: 9,
      lastIndex: 9,
      lastLogTerm: 2,
      voters: ['demo-0', 'demo-1'],
      ...overrides,
    });

  test('status shows the data format each member applied and the newest its build reads', () => {
    const rows = [
      { endpoint: 'a:1', status: status({ dataFormat: 2, maxDataFormat: 2 }) },
      // A member from before data formats reports neither: it writes and reads format 1.
      {
        endpoint: 'b:1',
        status: status({ member: 'demo-1', id: 'demo-1', role: MemberRole.MEMBER_ROLE_FOLLOWER }),
      },
      { endpoint: 'c:1', error: 'UNAVAILABLE: No connection established' },
    ];
    const lines = statusTable(rows).split('\n');
    const header = lines[1]!.split('|').map((c) => c.trim());
    const cells = (line: string): Record<string, string> =>
      Object.fromEntries(line.split('|').map((c, i): [string, string] => [header[i] ?? '', c.trim()]));
    expect(cells(lines[3]!)).toMatchObject({
      MEMBER: 'demo-0',
      'DATA FORMAT': '2',
      'READS UP TO': '2',
      ERROR: '',
    });
    expect(cells(lines[4]!)).toMatchObject({ MEMBER: 'demo-1', 'DATA FORMAT': '1', 'READS UP TO': '1' });
    expect(cells(lines[5]!)).toMatchObject({
      ENDPOINT: 'c:1',
      MEMBER: '',
      'DATA FORMAT': '',
      ERROR: rows[2]!.error,
    });
    const json = JSON.parse(statusJson(rows)) as Record<string, unknown>[];
    expect(json.map((r) => [r['dataFormat'], r['maxDataFormat']])).toEqual([
      [2, 2],
      [1, 1],
      [undefined, undefined],
    ]);
  });

  test('data-format set says what changed, or that nothing had to', () => {
    expect(dataFormatChangeText(0, { header: undefined, previous: 1, format: 2, index: 57 })).toBe(
      'shard 0 data format 1 → 2 (log index 57)',
    );
    expect(dataFormatChangeText(3, { header: undefined, previous: 2, format: 2, index: 0 })).toBe(
      'shard 3 already writes data format 2; nothing changed',
    );
  });
});
