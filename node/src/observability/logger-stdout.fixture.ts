// Test fixture for logger.test.ts: logs with the default destination, then exits at once, as a member does after
// a fatal error. The line must still reach stdout.
import { createLogger } from './logger.js';

const log = createLogger({ level: 'info', cluster: 'c', shard: 1, member: 'm' });
log.fatal({ code: 7 }, 'about to exit');
process.exit(3);
