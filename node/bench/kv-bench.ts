// Prints throughput figures for the key-value state machine (`npm run bench:kv [-- keys]`). A benchmark, not a
// test: it asserts nothing, and its numbers depend on the machine and its load.

import { decodeCommand, encodeCommand } from '../src/kv/command-codec.js';
import { seededRandom } from '../src/random/prng.js';
import { KvStateMachine } from '../src/kv/state-machine.js';
import type { Command } from '../src/kv/types.js';

const keyCount = Number(process.argv[2] ?? 100_000);
if (!Number.isSafeInteger(keyCount) || keyCount < 1 || keyCount > 10_000_000) {
  throw new Error(`key count must be an integer in [1, 10000000], got ${process.argv[2]}`);
}
const VALUE_BYTES = 100;

function timed<T>(label: string, operations: number, work: () => T): T {
  const start = process.hrtime.bigint();
  const result = work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rate = Math.round((operations / ms) * 1000);
  console.log(
    `${label.padEnd(40)} ${operations.toString().padStart(9)} ops ${ms.toFixed(1).padStart(9)} ms ${rate.toString().padStart(10)} ops/s`,
  );
  return result;
}

const rng = seededRandom(1);
const keyOf = (i: number): Uint8Array =>
  new TextEncoder().encode(`user/${(i * 2654435761) % 1_000_003}/${i}`);
const value = new Uint8Array(VALUE_BYTES).fill(0x61);
const commands: Command[] = Array.from({ length: keyCount }, (_, i) => ({
  timestampMs: i,
  session: { clientId: `client-${i % 64}`, sequence: Math.floor(i / 64) + 1 },
  op: { kind: 'put', key: keyOf(i), value, prevKv: false },
}));

const encoded = timed('encode command', keyCount, () => commands.map(encodeCommand));
timed('decode command', keyCount, () => encoded.forEach((bytes) => decodeCommand(bytes)));
const sm = new KvStateMachine();
timed('apply put (random keys, 64 sessions)', keyCount, () =>
  encoded.forEach((bytes, i) => sm.applyEntry(i + 1, bytes)),
);
timed('get (random existing key)', keyCount, () => {
  for (let i = 0; i < keyCount; i++) sm.get(keyOf(Math.floor(rng() * keyCount)));
});
const scans = 1000;
timed('range prefix "user/1" limit 100', scans, () => {
  for (let i = 0; i < scans; i++)
    sm.range(
      { kind: 'prefix', prefix: new TextEncoder().encode('user/1') },
      { limit: 100, keysOnly: false, countOnly: false },
    );
});
const snapshot = timed('snapshot (whole state)', 1, () => sm.snapshot());
console.log(
  `snapshot size: ${(snapshot.length / 1024 / 1024).toFixed(1)} MiB for ${sm.keyCount} keys, ${sm.sessionCount} sessions`,
);
const restored = timed('restore (decode + verify + rebuild)', 1, () => KvStateMachine.restore(snapshot));
console.log(`restored revision ${restored.revision}, applied index ${restored.appliedIndex}`);
