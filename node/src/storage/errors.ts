// Errors raised by durable storage. Each one names the file (and, where it applies, the byte offset or the process)
// so an operator can act on it without reading code. None of them is retried here: a storage fault after which the
// member keeps going risks acknowledging data it has lost.

/** A WAL record that cannot be trusted, found before the tail: data the member once acknowledged may be damaged. */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`WAL file ${file} is corrupt at byte offset ${offset}: ${reason}`);
  }
}

/** A snapshot file whose checksum or framing is wrong, or a snapshot set that cannot be reconciled with the WAL. */
export class SnapshotCorruptionError extends Error {
  override readonly name = 'SnapshotCorruptionError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`snapshot ${file}: ${reason}`);
  }
}

/** The newest usable snapshot and the WAL leave a hole in the log: recovery would silently lose entries. */
export class RecoveryGapError extends Error {
  override readonly name = 'RecoveryGapError';
}

/** The data directory is locked by another live process (or already opened by this one). */
export class DirLockedError extends Error {
  override readonly name = 'DirLockedError';
  constructor(
    readonly lockFile: string,
    readonly ownerPid: number,
    detail: string,
  ) {
    super(`data directory lock ${lockFile} is held by pid ${ownerPid}: ${detail}`);
  }
}

/** The member identity file disagrees with the configured identity, or is unreadable. */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

/** A call the storage refuses without touching the disk: bad arguments, closed storage, a full queue. */
export class StorageUsageError extends Error {
  override readonly name = 'StorageUsageError';
}

/**
 * An earlier write or fsync failed. After a failed fsync the kernel may have dropped the dirty pages, so retrying
 * could report success for data that never reached the disk (the 2018 "fsyncgate" lesson): the storage stays failed
 * and the member must restart and recover from what is really on disk.
 */
export class StorageFailedError extends Error {
  override readonly name = 'StorageFailedError';
}

/**
 * Normalises a thrown value to an Error, keeping its message. Errors from Node's fs are not always `instanceof
 * Error` in this realm (e.g. under a VM context), so the message is read structurally.
 */
export function asError(err: unknown): Error {
  if (err instanceof Error) return err;
  const message = (err as { message?: unknown } | null)?.message;
  return new Error(typeof message === 'string' ? message : String(err), { cause: err });
}
