// WAL append benchmark: how many Readys per second the durable storage sustains, and what the fdatasync costs.
// Each append is one Ready (entries plus a hard state): one write and one fdatasync. It prints figures only; nothing
// here is an assertion, and the numbers depend entirely on the disk under the directory used.
//
//   npm run bench:wal -- [--dir DIR] [--appends N] [--seconds S]
//
// DIR defaults to a fresh directory under os.tmpdir() (removed afterwards); point it at the volume the node will
// use to measure that disk. Each scenario stops after N appends or S seconds, whichever comes first.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Entry } from '../src/raft/types.js';
import { RaftDiskStorage } from '../src/storage/raft-disk-storage.js';

const VALUE_BYTES = 256;

interface Figures {
  readonly appends: number;
  readonly seconds: number;
  readonly fsyncMs: number[];
  readonly appendMs: number[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function scenario(
  base: string,
  batch: number,
  maxAppends: number,
  maxSeconds: number,
): Promise<Figures> {
  const dir = join(base, `batch-${batch}`);
  const fsyncMs: number[] = [];
  const storage = await RaftDiskStorage.open(dir, {
    identity: { clusterId: 'bench', shardId: 's0', memberName: 'bench-0' },
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
    onFsync: (ms) => fsyncMs.push(ms),
  });
  const value = new Uint8Array(randomBytes(VALUE_BYTES));
  const appendMs: number[] = [];
  let index = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  try {
    for (let n = 0; n < maxAppends && performance.now() < deadline; n++) {
      const entries: Entry[] = [];
      for (let i = 0; i < batch; i++) entries.push({ index: ++index, term: 1, type: 'normal', data: value });
      const t0 = performance.now();
      await storage.append({ term: 1, vote: 'bench-0', commit: index - batch }, entries, undefined);
      appendMs.push(performance.now() - t0);
    }
  } finally {
    await storage.close();
  }
  return { appends: appendMs.length, seconds: (performance.now() - started) / 1000, fsyncMs, appendMs };
}

function report(batch: number, f: Figures): void {
  const fsync = [...f.fsyncMs].sort((a, b) => a - b);
  const append = [...f.appendMs].sort((a, b) => a - b);
  const perSecond = f.appends / f.seconds;
  const fmt = (n: number): string => n.toFixed(3);
  console.log(
    [
      `batch=${String(batch).padStart(2)} entries x ${VALUE_BYTES} B`,
      `appends=${f.appends}`,
      `appends/s=${perSecond.toFixed(0)}`,
      `entries/s=${(perSecond * batch).toFixed(0)}`,
      `MB/s=${((perSecond * batch * VALUE_BYTES) / 1e6).toFixed(2)}`,
      `fsync_ms p50=${fmt(percentile(fsync, 50))} p99=${fmt(percentile(fsync, 99))}`,
      `append_ms p50=${fmt(percentile(append, 50))} p99=${fmt(percentile(append, 99))}`,
    ].join('  '),
  );
}

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    appends: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
  },
});
const maxAppends = Number(values.appends);
const maxSeconds = Number(values.seconds);
if (!Number.isSafeInteger(maxAppends) || maxAppends < 1)
  throw new Error(`--appends must be a positive integer`);
if (!(maxSeconds > 0)) throw new Error(`--seconds must be positive`);

const base = values.dir ?? (await mkdtemp(join(tmpdir(), 'wal-bench-')));
console.log(
  `wal-bench: dir=${base} node=${process.version} max ${maxAppends} appends or ${maxSeconds} s per scenario`,
);
try {
  for (const batch of [1, 64]) report(batch, await scenario(base, batch, maxAppends, maxSeconds));
} finally {
  if (values.dir === undefined) await rm(base, { recursive: true, force: true });
}
