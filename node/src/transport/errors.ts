// Errors raised by the peer transport. Peer trouble (a dead, slow or fenced peer) is never thrown at the host: it
// becomes a dropped message plus onUnreachable / onSnapshotStatus. What is thrown here is a programming or
// configuration error, which must stop the member rather than be retried.

import { status } from '@grpc/grpc-js';

/** The host handed the transport something it must never send (a local-only type, a message to itself, ...). */
export class TransportUsageError extends Error {
  override readonly name = 'TransportUsageError';
}

/** Invalid transport or service options (a bound that is not a positive integer, a batch larger than a message). */
export class TransportConfigError extends Error {
  override readonly name = 'TransportConfigError';
}

/**
 * Why the server refused a stream, with the gRPC status the peer receives. Thrown inside the service handlers and
 * turned into the call's status; grpc-js reads `code` and `details` from the error it is handed.
 */
export class PeerRejectedError extends Error {
  override readonly name = 'PeerRejectedError';
  readonly details: string;
  constructor(
    readonly code: status,
    details: string,
  ) {
    super(`${status[code]}: ${details}`);
    this.details = details;
  }
}
