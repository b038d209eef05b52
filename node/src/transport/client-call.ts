// One client-streaming gRPC call (Stream or SendSnapshot) seen as plain state a worker can poll after each wake-up:
// has the peer answered (metadata), may we write (backpressure), and how did it end. grpc-js reports a
// client-streaming call's end only through the callback (not an 'error' event), and pending writes never drain once
// the call has ended, so a worker must watch the outcome as well as 'drain': both notify the same Wakeup.

import { type ClientWritableStream, type ServiceError, status } from '@grpc/grpc-js';
import type { Wakeup } from './wakeup.js';

export type CallOutcome<Res> =
  | { readonly ok: true; readonly response: Res }
  | { readonly ok: false; readonly code: status | undefined; readonly error: string };

export type StartCall<Req, Res> = (
  callback: (error: ServiceError | null, response?: Res) => void,
) => ClientWritableStream<Req>;

/** "FAILED_PRECONDITION: details" for a gRPC status, the message otherwise. */
export function describeCallError(error: Error): string {
  const code = (error as Partial<ServiceError>).code;
  const details = (error as Partial<ServiceError>).details;
  if (typeof code === 'number' && status[code] !== undefined) {
    return `${status[code]}: ${details ?? error.message}`;
  }
  return error.message;
}

export class ClientCall<Req, Res> {
  private outcomeValue: CallOutcome<Res> | undefined;
  private writableValue = true;
  private answered = false;
  private ended = false;
  private readonly stream: ClientWritableStream<Req>;
  /** Messages handed to write() (for logs and metrics). */
  written = 0;

  constructor(
    start: StartCall<Req, Res>,
    private readonly wake: Wakeup,
    private readonly onContact: () => void,
    onAnswered: () => void = () => {},
  ) {
    this.stream = start((error, response) => {
      if (this.outcomeValue !== undefined) return;
      if (error !== null) {
        this.outcomeValue = { ok: false, code: error.code, error: describeCallError(error) };
      } else if (response === undefined) {
        this.outcomeValue = { ok: false, code: undefined, error: 'call ended without a response' };
      } else {
        this.outcomeValue = { ok: true, response };
      }
      this.wake.notify();
    });
    this.stream.on('metadata', () => {
      this.answered = true;
      this.onContact();
      onAnswered();
      this.wake.notify();
    });
    this.stream.on('drain', () => {
      this.writableValue = true;
      this.wake.notify();
    });
    // Defensive: a Writable whose write callback fails emits 'error'; unlistened, that would crash the process.
    this.stream.on('error', (error: Error) => {
      if (this.outcomeValue === undefined) {
        this.outcomeValue = { ok: false, code: undefined, error: describeCallError(error) };
      }
      this.wake.notify();
    });
  }

  get outcome(): CallOutcome<Res> | undefined {
    return this.outcomeValue;
  }

  /** The peer sent response headers: the stream reached its server. */
  get connected(): boolean {
    return this.answered && this.outcomeValue === undefined;
  }

  /** The peer answered at some point, whether or not the call has ended since. */
  get wasAnswered(): boolean {
    return this.answered;
  }

  /** False after a write() that filled the stream's buffer, until 'drain'. */
  get writable(): boolean {
    return this.writableValue && this.outcomeValue === undefined && !this.ended;
  }

  write(message: Req): void {
    if (this.outcomeValue !== undefined || this.ended) return;
    this.written += 1;
    const accepted = this.stream.write(message, (error: Error | null | undefined) => {
      // Before the peer answered, grpc-js accepts writes into its own buffer: that is not contact with the peer.
      if ((error === null || error === undefined) && this.answered) this.onContact();
    });
    if (!accepted) this.writableValue = false;
  }

  /** Half-closes: the server sees the end of the stream after every message written so far. */
  end(): void {
    if (this.ended || this.outcomeValue !== undefined) return;
    this.ended = true;
    this.stream.end();
  }

  cancel(): void {
    if (this.outcomeValue === undefined) this.stream.cancel();
  }
}
