// Test helper run as a separate process by dir-lock.test.ts: takes the lock on argv[2], reports its pid, and holds
// the lock until its stdin closes (then releases it) or it is killed (leaving a stale lock).

import { acquireDirLock } from './dir-lock.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: lock-holder.fixture.ts DIR');
const lock = await acquireDirLock(dir);
process.stdout.write(`locked ${process.pid}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  lock.release().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
