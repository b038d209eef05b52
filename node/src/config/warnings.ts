// Settings that are valid but risky. They do not stop the member: the host logs each one at warn level at start, so
// the risk is visible in the logs of every run that takes it.

import type { NodeConfig } from './node-config.js';

export function configWarnings(config: NodeConfig): string[] {
  const warnings: string[] = [];
  if (!config.fsync) {
    warnings.push(
      '--fsync=false: the write-ahead log is not fsynced, so acknowledged writes can be lost on power loss or ' +
        'kernel crash; use only in tests',
    );
  }
  // With an election timeout longer than the request timeout, every request sent during an election fails.
  const electionTimeoutMs = config.electionTicks * config.tickMs;
  if (config.requestTimeoutMs <= electionTimeoutMs) {
    warnings.push(
      `--request-timeout-ms=${config.requestTimeoutMs} is not above the election timeout ` +
        `(--election-ticks × --tick-ms = ${electionTimeoutMs} ms): requests made while a leader is elected will time out`,
    );
  }
  return warnings;
}
