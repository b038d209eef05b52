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
    });
    expect(parseRaftctlArgs(['status'], { RAFTCTL_ENDPOINTS: 'a:1,b:2' }).options.endpoints).toEqual([
      'a:1',
      'b:2',
    ]);
    const o = parse('--endpoints=x:1', '--shard', '2', '--timeout', '250ms', '-w', 'json', 'status').options;
    expect(o).toEqual({ endpoints: ['x:1'], shard: 2, timeoutMs: 250, output: 'json' });
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
