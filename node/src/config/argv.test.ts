import { MAX_ARGS, splitArgv, type FlagInfo } from './argv.js';

const flags = new Map<string, FlagInfo>([
  ['--name', { env: 'RAFTSTORE_NAME', isBoolean: false }],
  ['--data-dir', { env: 'RAFTSTORE_DATA_DIR', isBoolean: false }],
  ['--fsync', { env: 'RAFTSTORE_FSYNC', isBoolean: true }],
]);

describe('splitArgv', () => {
  it('takes --flag=value and --flag value, keeping "=" inside values', () => {
    const r = splitArgv(['--name=a', '--data-dir', '/x=y'], flags);
    expect(r.problems).toEqual([]);
    expect([...r.values]).toEqual([
      ['--name', 'a'],
      ['--data-dir', '/x=y'],
    ]);
  });

  it('keeps an explicitly empty value so the parser can reject it', () => {
    expect(splitArgv(['--name='], flags).values.get('--name')).toBe('');
  });

  it('reads a bare boolean flag as true and still accepts an explicit value', () => {
    expect(splitArgv(['--fsync'], flags).values.get('--fsync')).toBe('true');
    expect(splitArgv(['--fsync', '--name=a'], flags).values.get('--fsync')).toBe('true');
    expect(splitArgv(['--fsync', 'false'], flags).values.get('--fsync')).toBe('false');
  });

  it('reports a value-taking flag with no value', () => {
    const r = splitArgv(['--name', '--fsync'], flags);
    expect(r.problems).toEqual([
      {
        flag: '--name',
        envVar: 'RAFTSTORE_NAME',
        expected: 'missing value: use --name=VALUE or --name VALUE',
      },
    ]);
    expect(splitArgv(['--name'], flags).problems).toHaveLength(1);
  });

  it('reports unknown flags with the nearest known one', () => {
    const r = splitArgv(['--nmae=a', '--zzzzzzzz=1'], flags);
    expect(r.problems.map((p) => p.expected)).toEqual([
      'unknown flag (see --help); did you mean --name (RAFTSTORE_NAME)?',
      'unknown flag (see --help)',
    ]);
  });

  it('reports positional arguments and single-dash flags', () => {
    const r = splitArgv(['node-0', '-name=a'], flags);
    expect(r.problems.map((p) => p.flag)).toEqual(['node-0', '-name=a']);
  });

  it('reports a flag given twice, naming both values', () => {
    const r = splitArgv(['--name=a', '--name=b'], flags);
    expect(r.values.get('--name')).toBe('a');
    expect(r.problems).toEqual([
      {
        flag: '--name',
        envVar: 'RAFTSTORE_NAME',
        value: 'b',
        source: 'flag',
        expected: 'the flag at most once (it was already given as "a")',
      },
    ]);
  });

  it('recognises --help and -h anywhere, including where a value was expected', () => {
    expect(splitArgv(['-h'], flags).help).toBe(true);
    expect(splitArgv(['--name', '--help'], flags).help).toBe(true);
    expect(splitArgv(['--name=a'], flags).help).toBe(false);
  });

  it('bounds the number of arguments', () => {
    const r = splitArgv(
      Array.from({ length: MAX_ARGS + 1 }, () => '--fsync'),
      flags,
    );
    expect(r.values.size).toBe(0);
    expect(r.problems).toEqual([
      {
        flag: 'command line',
        envVar: '',
        expected: `too many arguments (${MAX_ARGS + 1}; at most ${MAX_ARGS})`,
      },
    ]);
  });
});
