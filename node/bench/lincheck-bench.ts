// Benchmark of the linearizability checker: generates a linearizable key-value history (several concurrent
// clients, some unknown outcomes) and prints how long checking it takes, then the same with one read corrupted
// (checking plus shrinking the counterexample). Prints figures only; nothing here is an assertion on time.
//
//   npm run bench:lincheck -- [--operations N] [--keys K] [--clients C] [--unknown-rate R] [--seed S]
//                             [--write PREFIX]   (also writes PREFIX-good.jsonl and PREFIX-corrupted.jsonl)
//
// --hard runs instead the hard single-key histories of issue 12 (defaults: 1,000 operations, 1 key, 16 clients, 10%
// unknown outcomes), one per seed from --seed to --seed + --seeds - 1, each checked three ways: as generated
// (linearizable), with its last read returning a value nothing wrote, and with a stale read planted (generate.ts,
// plantStaleRead: a 3-operation core). It prints each verdict, its time and the reported operations, then how many
// of each answered unknown, all with the search budget --budget-steps (default: the checker's). --search-alone also
// runs the search of the stale-read history on its own, without the pre-checks and the search around where it
// stopped (check.ts), to measure the search itself.
//
//   npm run bench:lincheck -- --hard [--seeds N] [--budget-steps N] [--search-alone] [--operations N] ...
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkLinearizable, type CheckResult } from '../testing/lincheck/check.js';
import {
  corruptRead,
  generateKvHistory,
  plantStaleRead,
  type KvOperation,
} from '../testing/lincheck/generate.js';
import { toJsonLines, parseJsonLines } from '../testing/lincheck/history.js';
import { kvCodec } from '../testing/lincheck/kv-codec.js';
import { kvModel } from '../testing/lincheck/kv-model.js';
import { searchPartition } from '../testing/lincheck/search.js';
import { DEFAULT_BUDGET_STEPS, DEFAULT_MAX_CACHE_BYTES } from '../testing/lincheck/check.js';
import { seededRandom } from '../src/random/prng.js';

const { values } = parseArgs({
  options: {
    operations: { type: 'string' },
    keys: { type: 'string' },
    clients: { type: 'string', default: '16' },
    'unknown-rate': { type: 'string' },
    'max-latency': { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    write: { type: 'string' },
    hard: { type: 'boolean', default: false },
    seeds: { type: 'string', default: '20' },
    'budget-steps': { type: 'string' },
    'search-alone': { type: 'boolean', default: false },
  },
});
const hard = values.hard === true;
const operations = Number(values.operations ?? (hard ? 1000 : 10000));
const keys = Number(values.keys ?? (hard ? 1 : 100));
const clients = Number(values.clients);
const unknownRate = Number(values['unknown-rate'] ?? (hard ? 0.1 : 0.02));
const maxLatency = Number(values['max-latency']);
const seed = Number(values.seed);

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

/** Most operations with a known outcome in flight at once (timed-out ones stay in flight forever). */
function maxConcurrency(history: readonly KvOperation[]): number {
  const events = history.flatMap((op) =>
    op.output === undefined
      ? []
      : [
          { time: op.call, delta: 1 },
          { time: op.return ?? Infinity, delta: -1 },
        ],
  );
  events.sort((a, b) => a.time - b.time || b.delta - a.delta);
  let open = 0;
  let max = 0;
  for (const event of events) max = Math.max(max, (open += event.delta));
  return max;
}

if (hard) {
  runHard(
    Number(values.seeds),
    values['budget-steps'] === undefined ? undefined : Number(values['budget-steps']),
  );
  process.exit(0);
}

function runHard(seedCount: number, budgetSteps: number | undefined): void {
  const options = budgetSteps === undefined ? {} : { budgetSteps };
  console.log(
    `hard histories: seeds ${seed}..${seed + seedCount - 1}, ${operations} operations, ${keys} key(s), ` +
      `${clients} clients, ${unknownRate * 100}% unknown outcomes, max latency ${maxLatency}, ` +
      `budget ${budgetSteps ?? 'default'} steps per partition`,
  );
  const kinds = ['generated', 'never-written read', 'stale read', 'stale read, search alone'] as const;
  const totals = new Map<(typeof kinds)[number], { unknown: number; ms: number[]; reported: number[] }>(
    kinds.map((kind) => [kind, { unknown: 0, ms: [], reported: [] }]),
  );
  const show = (result: CheckResult): string => {
    if (result.kind !== 'violation') return result.kind;
    return `violation (${result.decidedBy}, ${result.operations.length} operations reported)`;
  };
  for (let s = seed; s < seed + seedCount; s++) {
    const history = generateKvHistory({
      operations,
      keys,
      clients,
      unknownRate,
      maxLatency,
      random: seededRandom(s),
    });
    const lastRead = history.findLastIndex((op) => op.output?.op === 'get');
    const stale = plantStaleRead(history);
    const variants: [(typeof kinds)[number], KvOperation[] | undefined][] = [
      ['generated', history],
      ['never-written read', lastRead === -1 ? undefined : corruptRead(history, lastRead, 'never-written')],
      ['stale read', stale?.history],
    ];
    const line: string[] = [];
    for (const [kind, variant] of variants) {
      if (variant === undefined) {
        line.push(`${kind}: (none)`);
        continue;
      }
      const run = timed(() => checkLinearizable(kvModel, variant, options));
      const total = totals.get(kind)!;
      total.ms.push(run.ms);
      if (run.result.kind === 'unknown') total.unknown++;
      if (run.result.kind === 'violation') total.reported.push(run.result.operations.length);
      line.push(`${kind}: ${show(run.result)} ${run.ms.toFixed(0)} ms`);
    }
    if (values['search-alone'] === true && stale !== undefined) {
      const limits = {
        budgetSteps: budgetSteps ?? DEFAULT_BUDGET_STEPS,
        maxCacheBytes: DEFAULT_MAX_CACHE_BYTES,
      };
      const run = timed(() => searchPartition(kvModel, stale.history, limits));
      const total = totals.get('stale read, search alone')!;
      total.ms.push(run.ms);
      if (run.result.kind === 'exhausted') total.unknown++;
      const verdict = run.result.kind === 'exhausted' ? 'unknown' : run.result.kind;
      line.push(`search alone: ${verdict} after ${run.result.steps} steps, ${run.ms.toFixed(0)} ms`);
    }
    console.log(`seed ${s}: ${line.join('; ')}`);
  }
  for (const [kind, total] of totals) {
    if (total.ms.length === 0) continue;
    const sorted = [...total.ms].sort((a, b) => a - b);
    const sum = sorted.reduce((a, b) => a + b, 0);
    const reported =
      total.reported.length === 0
        ? ''
        : `, operations reported ${[...new Set(total.reported)].sort((a, b) => a - b).join('/')}`;
    console.log(
      `${kind}: ${total.unknown} of ${sorted.length} unknown; total ${(sum / 1000).toFixed(1)} s, ` +
        `median ${(sorted[sorted.length >> 1] ?? 0).toFixed(0)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(0)} ms${reported}`,
    );
  }
}

const history = generateKvHistory({
  operations,
  keys,
  clients,
  unknownRate,
  maxLatency,
  random: seededRandom(seed),
});
const unknown = history.filter((op) => op.output === undefined).length;
console.log(
  `history: ${history.length} operations, ${keys} keys, ${clients} clients, ${unknown} unknown outcomes, ` +
    `up to ${maxConcurrency(history)} completed operations in flight at once, seed ${seed}`,
);

const text = toJsonLines(history);
const parse = timed(() => parseJsonLines(text, kvCodec));
console.log(`parse JSON Lines (${(text.length / 1024 / 1024).toFixed(1)} MiB): ${parse.ms.toFixed(0)} ms`);

const good = timed(() => checkLinearizable(kvModel, history));
console.log(`check linearizable history: ${good.result.kind} in ${good.ms.toFixed(0)} ms`);

// Corrupt the last read that returned a value: it now returns a value no one wrote.
const victim = history.findLastIndex((op) => op.output?.op === 'get');
const corrupted = history.map((op, i) =>
  i === victim ? { ...op, output: { op: 'get' as const, value: 'corrupted' } } : op,
);
if (values.write !== undefined) {
  writeFileSync(`${values.write}-good.jsonl`, text);
  writeFileSync(`${values.write}-corrupted.jsonl`, toJsonLines(corrupted));
  console.log(`wrote ${values.write}-good.jsonl and ${values.write}-corrupted.jsonl`);
}
const bad = timed(() => checkLinearizable(kvModel, corrupted));
const shrunk =
  bad.result.kind === 'violation' ? `, shrunk to ${bad.result.operations.length} operations` : '';
console.log(`check corrupted history: ${bad.result.kind}${shrunk} in ${bad.ms.toFixed(0)} ms`);

// The same load on one key: no partitioning to help, so this is the search's worst case here. Run with the default
// budget (5M steps per partition) and with a smaller one, to show both the bound and the time it takes to finish.
const single = generateKvHistory({
  operations,
  keys: 1,
  clients,
  unknownRate,
  maxLatency,
  random: seededRandom(seed),
});
for (const budgetSteps of [1_000_000, undefined]) {
  const one = timed(() =>
    checkLinearizable(kvModel, single, budgetSteps === undefined ? {} : { budgetSteps }),
  );
  const budget = budgetSteps === undefined ? 'default budget' : `budget ${budgetSteps / 1e6}M steps`;
  console.log(
    `check ${single.length} operations on 1 key (${budget}): ${one.result.kind} in ${one.ms.toFixed(0)} ms`,
  );
}
