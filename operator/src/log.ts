// pino JSON logs on stdout, one object per line; child loggers add {cluster, namespace}.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/config.js';

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { component: 'raftstore-operator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous stdout: the line explaining a crash is not left in a buffer.
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
