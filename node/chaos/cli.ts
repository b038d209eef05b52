// `npm run chaos:local -- --runs 20 [--seed S] [--duration-s D] [--members 3|5] [--out DIR]`: chaos runs on real
// processes. Run i uses seed S+i (S random unless given, always printed, so any run is replayable with
// `--runs 1 --seed <its seed>`). Ends with `runs: N, violations: V, lost: L`; exit 1 when V or L > 0 or a cluster
// never came back (needs root: partitions use iptables).
import { parseArgs } from 'node:util';
import { Partitioner } from './partition.js';
import { chaosRun } from './run.js';

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got ${raw}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '1' },
      seed: { type: 'string' },
      'duration-s': { type: 'string', default: '20' },
      members: { type: 'string', default: '3' },
      clients: { type: 'string', default: '4' },
      keys: { type: 'string', default: '4' },
      out: { type: 'string', default: '.chaos-out' },
    },
  });
  const runs = positiveInt('--runs', values.runs);
  const members = positiveInt('--members', values.members);
  if (members !== 3 && members !== 5) throw new Error(`--members must be 3 or 5, got ${members}`);
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : positiveInt('--seed', values.seed);
  const durationMs = positiveInt('--duration-s', values['duration-s']) * 1000;
  let violations = 0;
  let lost = 0;
  let unavailable = 0;
  let unknown = 0;
  let notStarted = 0;
  const started = Date.now();
  const stopRules = (): void => Partitioner.tearDown();
  process.once('SIGINT', () => {
    stopRules();
    process.exit(130);
  });
  for (let i = 0; i < runs; i++) {
    const runSeed = seed + i;
    const t = Date.now();
    const r = await chaosRun({
      seed: runSeed,
      members,
      durationMs,
      outDir: values.out,
      clients: positiveInt('--clients', values.clients),
      keys: positiveInt('--keys', values.keys),
      log: (line) => console.log(line),
    });
    violations += r.violation ? 1 : 0;
    lost += r.lost.length;
    unavailable += r.unavailable === undefined ? 0 : 1;
    unknown += r.check === 'unknown' ? 1 : 0;
    notStarted += r.notStarted ? 1 : 0;
    console.log(
      `run ${i + 1}/${runs} seed ${runSeed}: ${r.operations} ops, ${r.check}, lost ${r.lost.length}` +
        `${r.unavailable === undefined ? '' : `, UNAVAILABLE: ${r.unavailable}`}${r.notStarted ? ', NOT STARTED' : ''} (${((Date.now() - t) / 1000).toFixed(1)} s) ${r.historyFile}`,
    );
  }
  console.log(
    `seed: ${seed}, not started: ${notStarted}, unavailable: ${unavailable}, unchecked: ${unknown}, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(`runs: ${runs}, violations: ${violations}, lost: ${lost}`);
  return violations > 0 || lost > 0 || unavailable > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    Partitioner.tearDown();
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
