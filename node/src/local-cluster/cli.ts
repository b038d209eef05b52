// `npm run cluster:local -- --members 3 [--shards 2]`: a local cluster of real processes on loopback, data in a temp
// directory; with --shards, that many groups of --members each, sharing one keyspace.
// Prints the endpoints and a raftctl command; Ctrl-C stops it cleanly (SIGTERM to every member).
import { LocalCluster } from './local-cluster.js';

function parseCount(argv: string[], flag: string, fallback: number, max: number): number {
  const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return fallback;
  const text = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`${flag} must be an integer from 1 to ${max}, got "${text}"`);
  return n;
}

const argv = process.argv.slice(2);
const members = parseCount(argv, '--members', 3, 9);
const shards = parseCount(argv, '--shards', 1, 8);
console.log(`starting ${shards > 1 ? `${shards} shards of ` : ''}${members} members…`);
const cluster = await LocalCluster.start({ members, shards });
const leaders = await Promise.all(
  Array.from({ length: shards }, (_, k) => cluster.waitForLeader(30_000, cluster.shardMembers(k))),
);
const endpoints = cluster.endpoints().join(',');
console.log(
  `cluster is up; leader${shards > 1 ? 's' : ''}: ${leaders.join(', ')}; data and logs in ${cluster.baseDir}`,
);
for (const m of cluster.members) {
  console.log(
    `  ${m.name}: shard ${m.shard}  client 127.0.0.1:${m.clientPort}  peer 127.0.0.1:${m.peerPort}  http http://127.0.0.1:${m.httpPort}/status`,
  );
}
console.log(`\ntry:  npm run raftctl -- --endpoints ${endpoints} put hello world`);
console.log(`      npm run raftctl -- --endpoints ${endpoints} status`);
console.log('\nCtrl-C stops the cluster.');

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  cluster.stop().then(
    () => {
      console.log('stopped');
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
