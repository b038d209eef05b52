// The lincheck command in-process, with an in-memory file system and a fake clock.
import { EXIT_BAD_INPUT, EXIT_LINEARIZABLE, EXIT_UNKNOWN, EXIT_VIOLATION, runLincheck } from './command.js';
import { generateKvHistory } from './generate.js';
import { parseJsonLines, toJsonLines } from './history.js';
import { kvCodec } from './kv-codec.js';
import { isLinearizableExhaustive } from './exhaustive.js';
import { kvModel } from './kv-model.js';
import { seededRandom } from '../../src/random/prng.js';

function run(
  args: string[],
  files: Record<string, string>,
  heapLimitBytes?: number,
): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let clock = 0;
  const code = runLincheck(args, {
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
      return text;
    },
    stdout: (line) => (stdout += line + '\n'),
    stderr: (line) => (stderr += line + '\n'),
    now: () => (clock += 600), // each reading advances 0.6 s
    ...(heapLimitBytes === undefined ? {} : { heapLimitBytes }),
  });
  return { code, stdout, stderr };
}

const GOOD = [
  '{"client":1,"input":{"op":"put","key":"x","value":"a"},"call":0,"output":{"op":"put"},"return":10}',
  '{"client":2,"input":{"op":"get","key":"x"},"call":5,"output":{"op":"get","value":"a"},"return":15}',
  '{"client":3,"input":{"op":"put","key":"y","value":"b"},"call":5}',
  '',
].join('\n');

const STALE = [
  '{"client":1,"input":{"op":"put","key":"x","value":"a"},"call":0,"output":{"op":"put"},"return":10}',
  '{"client":1,"input":{"op":"put","key":"x","value":"b"},"call":20,"output":{"op":"put"},"return":30}',
  '{"client":2,"input":{"op":"get","key":"x"},"call":40,"output":{"op":"get","value":"a"},"return":50}',
  '{"client":3,"input":{"op":"get","key":"y"},"call":40,"output":{"op":"get","value":null},"return":50}',
].join('\n');

test('a linearizable history: exit 0 and a one-line summary', () => {
  const { code, stdout, stderr } = run(['h.jsonl'], { 'h.jsonl': GOOD });
  expect(code).toBe(EXIT_LINEARIZABLE);
  // The fake clock reads 0.6 s at the start and 1.2 s at the end.
  expect(stdout).toBe('linearizable: 3 operations, 2 keys, 0.6s\n');
  expect(stderr).toBe('');
});

test('a violation: exit 1, the offending operations readable and as JSON Lines that fail again', () => {
  const { code, stdout } = run(['h.jsonl'], { 'h.jsonl': STALE });
  expect(code).toBe(EXIT_VIOLATION);
  expect(stdout).toMatch(
    /^not linearizable \(4 operations, 2 keys, 0\.6s\): partition "x": no order of these 3/,
  );
  expect(stdout).toContain('[40, 50] client 2: get("x") -> "a"');
  const jsonl = stdout.slice(stdout.indexOf('the same operations as JSON Lines:\n') + 35);
  const offending = parseJsonLines(jsonl, kvCodec);
  expect(offending).toHaveLength(3);
  expect(isLinearizableExhaustive(kvModel, offending)).toBe(false);
});

test.each([
  ['invalid JSON', '{"client":1,', /h\.jsonl:1: invalid JSON/],
  ['a missing call on line 2', GOOD.replace('"call":5,', ''), /h\.jsonl:2: "call" must be a finite number/],
  [
    'an unknown op',
    GOOD.replace('"op":"get"', '"op":"scan"'),
    /h\.jsonl:2: bad "input": "op" must be put, get/,
  ],
  [
    'an output for another op',
    GOOD.replace('{"op":"put"},"return":10', '{"op":"get"},"return":10'),
    /:1: bad "output"/,
  ],
  [
    'a return before the call',
    GOOD.replace('"return":15', '"return":1'),
    /:2: "return" \(1\) is before "call" \(5\)/,
  ],
])('a malformed file (%s): exit 2 with line and reason', (_name, text, message) => {
  const { code, stdout, stderr } = run(['h.jsonl'], { 'h.jsonl': text });
  expect(code).toBe(EXIT_BAD_INPUT);
  expect(stderr).toMatch(/^malformed history: /);
  expect(stderr).toMatch(message);
  expect(stdout).toBe('');
});

test('a missing file: exit 2', () => {
  const { code, stderr } = run(['nope.jsonl'], {});
  expect(code).toBe(EXIT_BAD_INPUT);
  expect(stderr).toMatch(/cannot read nope\.jsonl: ENOENT/);
});

test.each([[[]], [['a', 'b']], [['h.jsonl', '--budget-steps', 'lots']], [['h.jsonl', '--frobnicate']]])(
  'bad usage %j: exit 2 with usage',
  (args) => {
    const { code, stderr } = run(args, { 'h.jsonl': GOOD });
    expect(code).toBe(EXIT_BAD_INPUT);
    expect(stderr).toContain('usage: npm run lincheck -- FILE.jsonl');
  },
);

test('a budget that runs out: exit 3, distinct from pass and fail', () => {
  const lines = [];
  for (let i = 0; i < 12; i++) {
    lines.push(
      `{"client":${i},"input":{"op":"put","key":"x","value":"v${i}"},"call":0,"output":{"op":"put"},"return":99}`,
    );
  }
  lines.push(
    '{"client":99,"input":{"op":"get","key":"x"},"call":0,"output":{"op":"get","value":"v3"},"return":99}',
  );
  lines.push(
    '{"client":98,"input":{"op":"get","key":"x"},"call":100,"output":{"op":"get","value":"v4"},"return":101}',
  );
  lines.push(
    '{"client":97,"input":{"op":"get","key":"x"},"call":102,"output":{"op":"get","value":"v3"},"return":103}',
  );
  const { code, stdout } = run(['h.jsonl', '--budget-steps', '20'], { 'h.jsonl': lines.join('\n') });
  expect(code).toBe(EXIT_UNKNOWN);
  expect(stdout).toMatch(/^unknown: budget exhausted in 1 partition\(s\): partition "x" \(15 operations\)/);
  expect(stdout).toContain('to decide it, raise the bound that was reached: --budget-steps\n');
  expect(run(['h.jsonl'], { 'h.jsonl': lines.join('\n') }).code).toBe(EXIT_VIOLATION);
});

describe('--max-cache-mib: the memory bound of the search', () => {
  // Twelve concurrent puts and reads of v3, v4, v3 in turn: only the search can tell, and it must remember states.
  const HARD = [
    ...Array.from(
      { length: 12 },
      (_, i) =>
        `{"client":${i},"input":{"op":"put","key":"x","value":"v${i}"},"call":0,"output":{"op":"put"},"return":99}`,
    ),
    '{"client":99,"input":{"op":"get","key":"x"},"call":0,"output":{"op":"get","value":"v3"},"return":99}',
    '{"client":98,"input":{"op":"get","key":"x"},"call":100,"output":{"op":"get","value":"v4"},"return":101}',
    '{"client":97,"input":{"op":"get","key":"x"},"call":102,"output":{"op":"get","value":"v3"},"return":103}',
  ].join('\n');

  test('a bound too small gives unknown, naming the option that raises it; a larger one decides', () => {
    // Linearizable, but proving it takes the search more than 1 MiB of remembered states (seed 1).
    const history = generateKvHistory({
      operations: 2000,
      keys: 1,
      clients: 16,
      unknownRate: 0.1,
      maxLatency: 40,
      random: seededRandom(1),
    });
    const files = { 'h.jsonl': toJsonLines(history) };
    // A small --shrink-budget-steps keeps short the search for a violation around where it stopped (there is none).
    const small = run(['h.jsonl', '--max-cache-mib', '1', '--shrink-budget-steps', '20000'], files);
    expect(small.code).toBe(EXIT_UNKNOWN);
    expect(small.stdout).toMatch(
      /^unknown: .*partition "k0" \(2000 operations\): memo cache memory bound reached/,
    );
    expect(small.stdout).toContain('to decide it, raise the bound that was reached: --max-cache-mib\n');
    const larger = run(['h.jsonl', '--max-cache-mib', '16'], files);
    expect(larger.code).toBe(EXIT_LINEARIZABLE);
  });

  test('a bound within the heap is accepted', () => {
    const { code } = run(['h.jsonl', '--max-cache-mib', '512'], { 'h.jsonl': HARD }, 4096 * 1024 * 1024);
    expect(code).toBe(EXIT_VIOLATION);
  });

  test('a bound above the heap limit is refused, saying how to raise the heap', () => {
    const { code, stderr } = run(
      ['h.jsonl', '--max-cache-mib', '8192'],
      { 'h.jsonl': HARD },
      4096 * 1024 * 1024,
    );
    expect(code).toBe(EXIT_BAD_INPUT);
    expect(stderr).toContain(
      "--max-cache-mib 8192 is more than this process's JavaScript heap limit (4096 MiB): the search would crash " +
        'before reaching it; raise the heap first, e.g. NODE_OPTIONS=--max-old-space-size=16384',
    );
    expect(stderr).toContain('usage: npm run lincheck');
  });

  test.each([
    ['0', /--max-cache-mib must be a positive integer, got 0/],
    ['=-5', /--max-cache-mib must be a positive integer, got -5/],
    ['1.5', /--max-cache-mib must be a positive integer, got 1\.5/],
    ['lots', /--max-cache-mib must be a positive integer, got lots/],
    ['2000000', /--max-cache-mib must be at most 1048576, got 2000000/],
  ])('rejects --max-cache-mib %s', (value, message) => {
    const args = value.startsWith('=') ? [`--max-cache-mib${value}`] : ['--max-cache-mib', value];
    const { code, stderr } = run(['h.jsonl', ...args], { 'h.jsonl': HARD });
    expect(code).toBe(EXIT_BAD_INPUT);
    expect(stderr).toMatch(message);
  });

  test.each([['0'], ['soon'], ['-1']])('rejects --deadline-ms %s', (value) => {
    const { code, stderr } = run(['h.jsonl', `--deadline-ms=${value}`], { 'h.jsonl': HARD });
    expect(code).toBe(EXIT_BAD_INPUT);
    expect(stderr).toContain(`--deadline-ms must be a positive integer, got ${value}`);
  });

  test('a missing value is a usage error', () => {
    const { code, stderr } = run(['h.jsonl', '--max-cache-mib'], { 'h.jsonl': HARD });
    expect(code).toBe(EXIT_BAD_INPUT);
    expect(stderr).toMatch(/--max-cache-mib/);
  });
});

test('--help prints usage, every bound with its default, and exits 0', () => {
  const { code, stdout } = run(['--help'], {});
  expect(code).toBe(EXIT_LINEARIZABLE);
  expect(stdout).toContain('usage:');
  expect(stdout).toMatch(/--budget-steps N +search steps per key \(default 5000000\)/);
  expect(stdout).toMatch(/--max-cache-mib N +memory .* in MiB \(default\n +256\)/);
  expect(stdout).toContain('NODE_OPTIONS=--max-old-space-size=MIB');
  expect(stdout).toMatch(/--deadline-ms N +wall-clock bound/);
  expect(stdout).toMatch(/--shrink-budget-steps N +search steps for shrinking [^]* \(default 2000000\)/);
});
