// npm run bench:flood: a flood against one member of a real 3-member group (loopback, fsync off): thousands of
// concurrent 64 KiB puts from one client, as a hostile or broken client would send them. Prints what the puts got
// (applied, refused with RESOURCE_EXHAUSTED past --max-in-flight-bytes, timed out, failed otherwise), whether the
// member still serves another client, and its peak RSS. Figures, not assertions.
//   --puts N (default 3000)  --value-bytes N (default 65536)  --in-flight-bytes N (default: the member's default)
//   --at leader|follower (default follower)
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { KVClient } from '../../shared/api/generated/raftstore/v1/kv.js';
import { ShardedKvClient } from '../../shared/client/sharded-kv-client.js';
import { channelCredentials, PLAINTEXT } from '../../shared/security/transport-security.js';
import { LocalCluster } from '../../src/local-cluster/local-cluster.js';

const MiB = 1024 * 1024;
const { values: args } = parseArgs({
  options: {
    puts: { type: 'string', default: '3000' },
    'value-bytes': { type: 'string', default: String(64 * 1024) },
    'in-flight-bytes': { type: 'string' },
    at: { type: 'string', default: 'follower' },
  },
});
const puts = Number(args.puts);
const valueBytes = Number(args['value-bytes']);

/** The peak resident set of a process so far (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

const cluster = await LocalCluster.start({
  members: 3,
  fsync: false,
  logLevel: 'warn',
  compiled: false,
  extraArgs: args['in-flight-bytes'] ? [`--max-in-flight-bytes=${args['in-flight-bytes']}`] : [],
});
try {
  const leader = (await cluster.status(cluster.members[0]!.name))?.leader;
  const target = cluster.members.find((m) => (args.at === 'leader') === (m.name === leader))!;
  const client = new KVClient(
    `127.0.0.1:${target.clientPort}`,
    channelCredentials(PLAINTEXT, { watch: false }),
    {
      'grpc.max_send_message_length': 4 * MiB,
    },
  );
  const value = new Uint8Array(valueBytes).fill(7);
  const outcomes = new Map<string, number>();
  const started = Date.now();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  await Promise.all(
    Array.from(
      { length: puts },
      (_, i) =>
        new Promise<void>((resolve) => {
          client.put(
            {
              shardId: 0,
              header: undefined,
              key: new TextEncoder().encode(`flood/${i}`),
              value,
              prevKv: false,
            },
            new Metadata(),
            { deadline: Date.now() + 60_000 },
            (err: ServiceError | null) => {
              const what = err ? (status[err.code] ?? String(err.code)) : 'OK';
              outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
              resolve();
            },
          );
        }),
    ),
  );
  const floodMs = Date.now() - started;
  client.close();
  const other = new ShardedKvClient(cluster.endpoints(), 10_000);
  let served: string;
  try {
    await other.put('after-the-flood', 'served');
    served = new TextDecoder().decode((await other.get('after-the-flood'))?.value);
  } catch (err) {
    served = `not served: ${(err as Error).message}`;
  } finally {
    other.close();
  }
  console.log(
    `flood of ${puts} puts of ${valueBytes} bytes at a ${args.at} (load average ${load}): ${floodMs} ms, ` +
      `${JSON.stringify(Object.fromEntries(outcomes))}; another client afterwards: ${served}; ` +
      `the member's peak RSS ${(peakRss(target.process!.pid!) / MiB).toFixed(0)} MiB`,
  );
} finally {
  await cluster.stop();
  await rm(cluster.baseDir, { recursive: true, force: true });
}
