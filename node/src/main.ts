#!/usr/bin/env node
// The datastore node's entry point: one member of one shard per process (one pod).
// Exit codes (process/exit-codes.ts): 0 after a clean shutdown, 1 on a fatal error, 2 on invalid configuration, 75
// when the member stopped itself to be restarted with the same flags (after ForceNewCluster).
import { readFileSync } from 'node:fs';
import { ConfigError } from './config/config-error.js';
import { helpRequested, parseNodeConfig } from './config/node-config.js';
import { usage } from './config/usage.js';
import { EXIT_CONFIG, EXIT_FATAL, EXIT_OK, EXIT_RESTART } from './process/exit-codes.js';
import { NodeProcess } from './process/node-process.js';

/** The package version: from RAFTSTORE_VERSION (images set it), else package.json (sources or dist/ layout). */
function version(): string {
  const fromEnv = process.env['RAFTSTORE_VERSION'];
  if (fromEnv) return fromEnv;
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'raftstore' && pkg.version) return pkg.version;
    } catch {
      // Not at this level; try the next.
    }
  }
  return 'unknown';
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (helpRequested(argv)) {
    console.log(usage());
    return;
  }
  let config;
  try {
    config = parseNodeConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = EXIT_CONFIG;
      return;
    }
    throw err;
  }
  const fail = (error: Error): void => {
    console.error(`raftstore node: fatal: ${error.message}`);
    // Stop at once: continuing after a disk or invariant failure could lose data. The WAL is the recovery point.
    process.exit(EXIT_FATAL);
  };
  const restart = (reason: string): void => {
    console.error(
      `raftstore node: exiting with code ${EXIT_RESTART} to be restarted with the same flags: ${reason}`,
    );
    process.exit(EXIT_RESTART);
  };
  const proc = await NodeProcess.start({ config, version: version(), onFatal: fail, onRestart: restart });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      console.error(`raftstore node: second ${signal}, exiting at once`);
      process.exit(EXIT_FATAL);
    }
    const hardStop = setTimeout(() => {
      console.error('raftstore node: shutdown grace period exceeded, exiting');
      process.exit(EXIT_FATAL);
    }, config.shutdownGraceMs + 1000);
    hardStop.unref();
    proc.shutdown(signal).then(
      () => process.exit(EXIT_OK),
      (err: unknown) => {
        console.error(`raftstore node: shutdown failed: ${String(err)}`);
        process.exit(EXIT_FATAL);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  console.error(`raftstore node: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(EXIT_FATAL);
});
