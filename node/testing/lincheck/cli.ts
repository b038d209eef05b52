// Entry point of `npm run lincheck -- FILE.jsonl`; the logic and exit codes are in command.ts.
import { readFileSync, statSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { runLincheck } from './command.js';
import { exitQuietlyOnEpipe } from './stdio.js';

/** Larger files are refused rather than exhausting memory (a 10,000-operation history is about 1 MiB). */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

// `lincheck FILE | head` must not die when head stops reading (stdio.ts).
exitQuietlyOnEpipe(process.stdout, (code) => process.exit(code));
exitQuietlyOnEpipe(process.stderr, (code) => process.exit(code));

process.exitCode = runLincheck(process.argv.slice(2), {
  readFile: (path) => {
    const size = statSync(path).size;
    if (size > MAX_FILE_BYTES)
      throw new Error(`file is ${size} bytes, more than the ${MAX_FILE_BYTES} allowed`);
    return readFileSync(path, 'utf8');
  },
  stdout: (line) => process.stdout.write(line + '\n'),
  stderr: (line) => process.stderr.write(line + '\n'),
  now: () => performance.now(),
  heapLimitBytes: getHeapStatistics().heap_size_limit,
});
