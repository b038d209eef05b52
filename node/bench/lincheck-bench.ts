// Benchmark of the linearizability checker: generates a linearizable key-value history (several concurrent
// clients, some unknown outcomes) and prints how long checking it takes, then the same with one read corrupted
// (checking plus shrinking the counterexample). Prints figures only; nothing here is an assertion on time.
//
//   npm run bench:lincheck -- [--operations N] [--keys K] [--clients C] [--unknown-rate R] [--seed S]
//                             [--write PREFIX]   (also writes PREFIX-good.jsonl and PREFIX-corrupted.jsonl)
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkLinearizable } from '../testing/lincheck/check.js';
import { generateKvHistory, type KvOperation } from '../testing/lincheck/generate.js';
import { toJsonLines, parseJsonLines } from '../testing/lincheck/history.js';
import { kvCodec } from '../testing/lincheck/kv-codec.js';
import { kvModel } from '../testing/lincheck/kv-model.js';
import { seededRandom } from '../src/random/prng.js';

const { values } = parseArgs({
  options: {
    operations: { type: 'string', default: '10000' },
    keys: { type: 'string', default: '100' },
    clients: { type: 'string', default: '16' },
    'unknown-rate': { type: 'string', default: '0.02' },
    'max-latency': { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    write: { type: 'string' },
  },
});
const operations = Number(values.operations);
const keys = Number(values.keys);
const clients = Number(values.clients);
const unknownRate = Number(values['unknown-rate']);
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
