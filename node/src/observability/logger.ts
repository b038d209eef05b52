// Structured JSON logs on stdout, one object per line, for the container runtime to collect. Every line carries the
// member's identity ({cluster, shard, member}) so logs from many pods can be merged and still be attributed; child
// loggers add context such as {term}.

import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../../shared/config/options.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly cluster: string;
  readonly shard: number;
  readonly member: string;
  /**
   * Where lines go; stdout when omitted. Tests pass a capturing stream. The stdout default writes synchronously so
   * no line sits in a buffer when the process dies; the line explaining a crash is the one that matters most.
   */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(
    {
      level: options.level,
      // Replaces pino's default {pid, hostname}: in a pod the hostname is the pod name and the pid is always 1.
      base: { cluster: options.cluster, shard: options.shard, member: options.member },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names ("warn") rather than numbers (40), so a human and a log query read the same thing.
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
