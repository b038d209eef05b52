// The `npm run lincheck -- FILE.jsonl` command, with its file system, output and clock injected so that tests run
// it in-process. Exit codes:
//   0  linearizable                      one summary line on stdout
//   1  not linearizable                  the smallest offending set found, readable and as JSON Lines, on stdout
//   2  malformed history or bad usage    file:line: reason on stderr
//   3  unknown: a search budget ran out  the reason on stdout (raise --budget-steps or --deadline-ms)
import { parseArgs } from 'node:util';
import { checkLinearizable, type CheckOptions } from './check.js';
import { HistoryFormatError, parseJsonLines, toJsonLines } from './history.js';
import { kvCodec } from './kv-codec.js';
import { kvModel } from './kv-model.js';

export interface CommandIo {
  readFile(path: string): string;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Milliseconds, for the reported duration and --deadline-ms. */
  now(): number;
}

export const EXIT_LINEARIZABLE = 0;
export const EXIT_VIOLATION = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_UNKNOWN = 3;

const USAGE =
  'usage: npm run lincheck -- FILE.jsonl [--budget-steps N] [--shrink-budget-steps N] [--deadline-ms N]\n' +
  'Checks a key-value history (JSON Lines, format in node/testing/lincheck/history.ts) for linearizability.';

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

function count(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`${flag} must be a positive integer, got ${text}`);
  return value;
}
