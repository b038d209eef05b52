// Public surface of the node's durable storage. The node needs RaftDiskStorage and the errors; the lower layers
// (WAL, snapshot store, lock, identity) are exported for tools and tests that work with one piece at a time.

export {
  RaftDiskStorage,
  type OpenReport,
  type RaftDiskStorageOptions,
  type RecoveredState,
} from './raft-disk-storage.js';
export {
  DirLockedError,
  IdentityError,
  RecoveryGapError,
  SnapshotCorruptionError,
  StorageFailedError,
  StorageUsageError,
  WalCorruptionError,
} from './errors.js';
export { acquireDirLock, type DirLock, type DirLockOptions } from './dir-lock.js';
export {
  loadOrCreateIdentity,
  type ConfiguredIdentity,
  type LoadedIdentity,
  type MemberIdentity,
} from './member-identity.js';
export { SegmentedWal, type TruncatedTail, type WalOptions } from './wal.js';
export { SnapshotStore, type SnapshotStoreOptions } from './snapshot-store.js';
export {
  nodeFileSystem,
  type OpenFlags,
  type StorageFileHandle,
  type StorageFileSystem,
} from './file-system.js';
export { crc32c } from './crc32c.js';
