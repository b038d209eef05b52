// `npm run chaos:local -- --runs 20 [--seed S] [--duration-s D] [--members 3|5] [--shards N] [--out DIR]`: chaos
// runs on real processes. Run i uses seed S+i (S random unless given, always printed, so any run is replayable with
// `--runs 1 --seed <its seed>`). Ends with `runs: N, violations: V, lost: L`; exit 1 when V or L > 0 or a cluster
// never came back (needs root: partitions use iptables). With --shards N ≥ 2, each run also reshards N → N+1 → N
// under the faults, and exit is 1 as well when a reshard did not complete or left an uneven layout.
// `--planted-bug skip-copy` (test-only) breaks the coordinator on purpose: the runs must then fail.
import { parseArgs } from 'node:util';
import { Partitioner } from './partition.js';
import { isPlantedBug, PLANTED_BUGS } from './planted-bugs.js';
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
      // Default 4, or with --shards N two per original shard (one in slots that move, one in slots that stay).
      keys: { type: 'string' },
      shards: { type: 'string', default: '1' },
      'planted-bug': { type: 'string' },
      out: { type: 'string', default: '.chaos-out' },
    },
  });
  const runs = positiveInt('--runs', values.runs);
  const members = positiveInt('--members', values.members);
  if (members !== 3 && members !== 5) throw new Error(`--members must be 3 or 5, got ${members}`);
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : positiveInt('--seed', values.seed);
  const durationMs = positiveInt('--duration-s', values['duration-s']) * 1000;
  const shards = positiveInt('--shards', values.shards);
  if (shards < 1 || shards > 64) throw new Error(`--shards must be from 1 to 64, got ${shards}`);
  const keys = values.keys === undefined ? (shards > 1 ? 2 * shards : 4) : positiveInt('--keys', values.keys);
  const plantedBug = values['planted-bug'];
  if (plantedBug !== undefined && !isPlantedBug(plantedBug))
    throw new Error(`--planted-bug must be one of ${PLANTED_BUGS.join(', ')}, got ${plantedBug}`);
  if (plantedBug !== undefined && shards < 2)
    throw new Error('--planted-bug breaks the reshard: it needs --shards 2 or more');
  let violations = 0;
  let lost = 0;
  let unavailable = 0;
  let unknown = 0;
  let notStarted = 0;
  let reshardFailures = 0;
  let layoutFailures = 0;
  let maxPauseMs = 0;
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
      keys,
      ...(shards > 1 ? { shards } : {}),
      ...(plantedBug === undefined ? {} : { plantedBug }),
      log: (line) => console.log(line),
    });
    violations += r.violation ? 1 : 0;
    lost += r.lost.length;
    unavailable += r.unavailable === undefined ? 0 : 1;
    unknown += r.check === 'unknown' ? 1 : 0;
    notStarted += r.notStarted ? 1 : 0;
    reshardFailures += r.reshardError === undefined ? 0 : 1;
    layoutFailures += r.layoutError === undefined ? 0 : 1;
    maxPauseMs = Math.max(maxPauseMs, r.reshard?.maxPauseMs ?? 0);
    const reshard =
      shards < 2 || r.notStarted
        ? ''
        : r.reshard !== undefined
          ? `, reshard ${shards}->${shards + 1}->${shards}: ${r.reshard.batches.length} batches, ` +
            `${r.reshard.keysCopied} keys copied, max pause ${r.reshard.maxPauseMs} ms, ` +
            `out ${(r.reshard.outMs / 1000).toFixed(1)} s, back ${(r.reshard.backMs / 1000).toFixed(1)} s`
          : `, RESHARD FAILED: ${r.reshardError ?? 'not run'}`;
    console.log(
      `run ${i + 1}/${runs} seed ${runSeed}: ${r.operations} ops, ${r.check}, lost ${r.lost.length}` +
        `${r.unavailable === undefined ? '' : `, UNAVAILABLE: ${r.unavailable}`}${r.notStarted ? ', NOT STARTED' : ''}` +
        `${reshard}${r.layoutError === undefined ? '' : `, LAYOUT: ${r.layoutError}`}` +
        ` (${((Date.now() - t) / 1000).toFixed(1)} s) ${r.historyFile}`,
    );
  }
  console.log(
    `seed: ${seed}, not started: ${notStarted}, unavailable: ${unavailable}, unchecked: ${unknown}` +
      `${shards > 1 ? `, reshard failed: ${reshardFailures}, uneven layout: ${layoutFailures}, max pause: ${maxPauseMs} ms` : ''}` +
      `, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  console.log(`runs: ${runs}, violations: ${violations}, lost: ${lost}`);
  return violations > 0 || lost > 0 || unavailable > 0 || reshardFailures > 0 || layoutFailures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    Partitioner.tearDown();
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  },
);
