// The `npm run lincheck -- FILE.jsonl` command, with its file system, output and clock injected so that tests run
// it in-process. Exit codes:
//   0  linearizable                      one summary line on stdout
//   1  not linearizable                  the smallest offending set found, readable and as JSON Lines, on stdout
//   2  malformed history or bad usage    file:line: reason (or what is wrong with the options) on stderr
//   3  unknown: a search bound was hit   the reason on stdout, and which option raises that bound
import { parseArgs } from 'node:util';
import {
  checkLinearizable,
  DEFAULT_BUDGET_STEPS,
  DEFAULT_MAX_CACHE_BYTES,
  DEFAULT_SHRINK_BUDGET_STEPS,
  type CheckOptions,
} from './check.js';
import { HistoryFormatError, parseJsonLines, toJsonLines } from './history.js';
import { kvCodec } from './kv-codec.js';
import { kvModel } from './kv-model.js';

export interface CommandIo {
  readFile(path: string): string;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Milliseconds, for the reported duration and --deadline-ms. */
  now(): number;
  /**
   * Bytes this process's JavaScript heap may grow to (v8.getHeapStatistics().heap_size_limit): a memo cache bound
   * above it would crash the process before the bound is reached, so such a --max-cache-mib is refused.
   */
  heapLimitBytes?: number;
}

export const EXIT_LINEARIZABLE = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_UNKNOWN = 3;

const MIB = 1024 * 1024;
/** The largest --max-cache-mib accepted at all (1 TiB), whatever the heap; larger is a typo. */
export const MAX_CACHE_MIB_LIMIT = 1024 * 1024;

const USAGE = [
  'usage: npm run lincheck -- FILE.jsonl [--budget-steps N] [--max-cache-mib N] [--deadline-ms N]',
  '                                       [--shrink-budget-steps N]',
  'Checks a key-value history (JSON Lines, format in node/testing/lincheck/history.ts) for linearizability.',
  'Exit 0 linearizable, 1 not linearizable, 2 malformed file or bad usage, 3 unknown (a bound below was reached).',
  '',
  'Bounds (each a positive integer; per key, as keys are checked one at a time):',
  `  --budget-steps N         search steps per key (default ${DEFAULT_BUDGET_STEPS})`,
  `  --max-cache-mib N        memory the search may use to remember explored states, per key, in MiB (default`,
  `                           ${DEFAULT_MAX_CACHE_BYTES / MIB}); above Node's heap limit it is refused: raise that first with`,
  '                           NODE_OPTIONS=--max-old-space-size=MIB',
  '  --deadline-ms N          wall-clock bound of the whole check, shrinking included (default: none)',
  `  --shrink-budget-steps N  search steps for shrinking a violation to its core, and for looking for one where a`,
  `                           search ran out of steps (default ${DEFAULT_SHRINK_BUDGET_STEPS})`,
  '  -h, --help               this text',
].join('\n');

export function runLincheck(args: readonly string[], io: CommandIo): number {
  let file: string;
  let options: CheckOptions;
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        'budget-steps': { type: 'string' },
        'shrink-budget-steps': { type: 'string' },
        'deadline-ms': { type: 'string' },
        'max-cache-mib': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      io.stdout(USAGE);
      return EXIT_LINEARIZABLE;
    }
    if (positionals.length !== 1)
      throw new Error(`expected exactly one history file, got ${positionals.length}`);
    file = positionals[0]!;
    options = { now: () => io.now() };
    if (values['budget-steps'] !== undefined)
      options.budgetSteps = count('--budget-steps', values['budget-steps']);
    if (values['shrink-budget-steps'] !== undefined) {
      options.shrinkBudgetSteps = count('--shrink-budget-steps', values['shrink-budget-steps']);
    }
    if (values['deadline-ms'] !== undefined)
      options.deadlineMs = count('--deadline-ms', values['deadline-ms']);
    if (values['max-cache-mib'] !== undefined) {
      options.maxCacheBytes = cacheMib(values['max-cache-mib'], io.heapLimitBytes) * MIB;
    }
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}`);
    return EXIT_BAD_INPUT;
  }

  const start = io.now();
  let text: string;
  try {
    text = io.readFile(file);
  } catch (error) {
    io.stderr(`cannot read ${file}: ${(error as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  let history;
  try {
    history = parseJsonLines(text, kvCodec);
  } catch (error) {
    if (!(error instanceof HistoryFormatError)) throw error;
    io.stderr(`malformed history: ${file}:${error.line}: ${error.reason}`);
    return EXIT_BAD_INPUT;
  }

  const result = checkLinearizable(kvModel, history, options);
  const keys = new Set(history.map((op) => op.input.key)).size;
  const took = `${((io.now() - start) / 1000).toFixed(1)}s`;
  switch (result.kind) {
    case 'linearizable':
      io.stdout(`linearizable: ${history.length} operations, ${keys} keys, ${took}`);
      return EXIT_LINEARIZABLE;
    case 'unknown':
      io.stdout(`unknown: ${result.reason} (${history.length} operations, ${keys} keys, ${took})`);
      io.stdout(`to decide it, raise the bound that was reached: ${raiseHint(result.reason)}`);
      return EXIT_UNKNOWN;
    case 'violation':
      io.stdout(
        `not linearizable (${history.length} operations, ${keys} keys, ${took}): ${result.explanation}`,
      );
      io.stdout('the same operations as JSON Lines:');
      io.stdout(toJsonLines(result.operations).trimEnd());
      return EXIT_VIOLATION;
  }
}

/** The options that raise the bounds a reason (check.ts, limitText) says were reached. */
function raiseHint(reason: string): string {
  const hints: string[] = [];
  if (reason.includes('step budget')) hints.push('--budget-steps');
  if (reason.includes('memory bound')) hints.push('--max-cache-mib');
  if (reason.includes('deadline')) hints.push('--deadline-ms');
  return hints.length > 0 ? hints.join(', ') : '--budget-steps, --max-cache-mib, --deadline-ms';
}

function cacheMib(text: string, heapLimitBytes: number | undefined): number {
  const mib = count('--max-cache-mib', text);
  if (mib > MAX_CACHE_MIB_LIMIT)
    throw new Error(`--max-cache-mib must be at most ${MAX_CACHE_MIB_LIMIT}, got ${text}`);
  if (heapLimitBytes !== undefined && mib * MIB > heapLimitBytes) {
    const heapMib = Math.floor(heapLimitBytes / MIB);
    throw new Error(
      `--max-cache-mib ${mib} is more than this process's JavaScript heap limit (${heapMib} MiB): the search would ` +
        `crash before reaching it; raise the heap first, e.g. NODE_OPTIONS=--max-old-space-size=${mib * 2}`,
    );
  }
  return mib;
}

function count(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${flag} must be a positive integer, got ${text}`);
  return value;
}
