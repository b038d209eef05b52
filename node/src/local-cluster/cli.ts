// `npm run cluster:local -- --members 3`: a local cluster of real processes on loopback, data in a temp directory.
// Prints the endpoints and a raftctl command; Ctrl-C stops it cleanly (SIGTERM to every member).
import { LocalCluster } from './local-cluster.js';

function parseMembers(argv: string[]): number {
  const i = argv.findIndex((a) => a === '--members' || a.startsWith('--members='));
  if (i < 0) return 3;
  const text = argv[i]!.includes('=') ? argv[i]!.split('=')[1] : argv[i + 1];
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 9)
    throw new Error(`--members must be an integer from 1 to 9, got "${text}"`);
  return n;
}

const members = parseMembers(process.argv.slice(2));
console.log(`starting ${members} members…`);
const cluster = await LocalCluster.start({ members });
const leader = await cluster.waitForLeader(30_000);
const endpoints = cluster.endpoints().join(',');
console.log(`cluster is up; leader: ${leader}; data and logs in ${cluster.baseDir}`);
for (const m of cluster.members) {
  console.log(
    `  ${m.name}: client 127.0.0.1:${m.clientPort}  peer 127.0.0.1:${m.peerPort}  http http://127.0.0.1:${m.httpPort}/status`,
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
