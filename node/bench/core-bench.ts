// Micro-benchmark of the Raft core alone (`npm run bench:core`): a 3-member cluster in one process, persisting
// instantly and delivering messages in memory, so the figure is the core's own cost per committed entry.
// Prints figures; asserts nothing about speed.
import { TestCluster } from '../testing/raft/test-cluster.js';

interface Args {
  seconds: number;
  batch: number;
  valueBytes: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 3, batch: 64, valueBytes: 256 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], Number(argv[i + 1])];
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} needs a positive number`);
    if (flag === '--seconds') args.seconds = value;
    else if (flag === '--batch') args.batch = value;
    else if (flag === '--value-bytes') args.valueBytes = value;
    else throw new Error(`unknown flag ${flag} (known: --seconds, --batch, --value-bytes)`);
  }
  return args;
}

function run({ seconds, batch, valueBytes }: Args): { entries: number; elapsedMs: number } {
  const cluster = new TestCluster(['a', 'b', 'c']);
  cluster.campaign('a');
  const leader = cluster.node('a');
  const payload = Array.from({ length: batch }, () => new Uint8Array(valueBytes).fill(7));
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const firstCommit = leader.status().commit;
  let rounds = 0;
  while (performance.now() < deadline) {
    const r = leader.proposeBatch(payload);
    if (!r.ok) throw new Error(`proposal refused: ${r.reason}`);
    cluster.stabilize();
    // Drop applied bookkeeping so memory stays flat over long runs.
    if (++rounds % 64 === 0) for (const m of cluster.members.values()) m.applied.length = 0;
    if (rounds % 256 === 0) leader.compact(new Uint8Array(0), 1024);
  }
  const elapsedMs = performance.now() - start;
  return { entries: leader.status().commit - firstCommit, elapsedMs };
}

const args = parseArgs(process.argv.slice(2));
run({ ...args, seconds: 0.5 }); // warm-up: JIT
const { entries, elapsedMs } = run(args);
const perSecond = Math.round((entries / elapsedMs) * 1000);
console.log(
  `core: 3 members in memory, batch ${args.batch} × ${args.valueBytes} B: ${entries} entries committed in ` +
    `${(elapsedMs / 1000).toFixed(2)} s = ${perSecond.toLocaleString('en-US')} entries/s`,
);
