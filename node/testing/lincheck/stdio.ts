// `npm run lincheck -- FILE | head`: once the reader has gone, a write to the pipe fails with EPIPE, which Node
// reports as an 'error' event on the stream; unhandled, that kills the process with a stack trace and exit code 1.
// The reader simply wanted no more output, so it is not a failure: stop at once, quietly, with exit code 0. Any
// other write error stays fatal.

/** The part of a stream this needs (process.stdout, process.stderr). */
export interface ErrorSource {
  on(event: 'error', listener: (error: Error & { code?: unknown }) => void): unknown;
}

export function exitQuietlyOnEpipe(stream: ErrorSource, exit: (code: number) => void): void {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    exit(0);
  });
}
