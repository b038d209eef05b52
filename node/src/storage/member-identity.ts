// Who this data directory belongs to. Written once, atomically, when the directory is first initialised, and checked
// on every start: a volume attached to the wrong member (or the wrong shard or cluster) must not join a Raft group
// with someone else's log. The incarnation id is random and new for every fresh directory, so a member whose data
// was wiped comes back as a new incarnation (with a new Raft node id) instead of reusing votes it has forgotten.

import { join } from 'node:path';
import type { NodeId } from '../raft/types.js';
import { IdentityError } from './errors.js';
import { nodeFileSystem, type StorageFileSystem } from './file-system.js';
import { writeFileAtomic } from './fs-durable.js';

export const IDENTITY_FILE = 'IDENTITY';
const FORMAT_VERSION = 1;
const INCARNATION_BYTES = 16;
const MAX_FIELD_LENGTH = 253;

export interface MemberIdentity {
  readonly clusterId: string;
  readonly shardId: string;
  readonly memberName: string;
  readonly nodeId: NodeId;
  /** 32 hex digits, random, fixed for the life of the data directory. */
  readonly incarnationId: string;
}

/** What the node is configured as. `nodeId`, when given, is checked too; otherwise it is derived on creation. */
export interface ConfiguredIdentity {
  readonly clusterId: string;
  readonly shardId: string;
  readonly memberName: string;
  readonly nodeId?: NodeId;
}

export interface LoadedIdentity {
  readonly identity: MemberIdentity;
  /** True when this call created the identity: the directory is a fresh incarnation. */
  readonly created: boolean;
}

export interface IdentityOptions {
  /** Random source for the incarnation id (crypto.randomBytes in production). */
  readonly randomBytes: (n: number) => Uint8Array;
  /** Whether the directory already holds WAL or snapshot files: then a missing identity is an error, not a fresh start. */
  readonly dataPresent: boolean;
  /** Where the directory lives: node's file system by default, a simulated disk in the simulator. */
  readonly fs?: StorageFileSystem;
}

function checkField(value: unknown, what: string, where: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FIELD_LENGTH) {
    throw new IdentityError(`${where}: ${what} must be a string of 1..${MAX_FIELD_LENGTH} characters`);
  }
  return value;
}

function parseIdentity(text: string, path: string): MemberIdentity {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new IdentityError(`${path} is not valid JSON`);
  }
  if (typeof raw !== 'object' || raw === null) throw new IdentityError(`${path} does not hold an object`);
  const r = raw as Record<string, unknown>;
  if (r['version'] !== FORMAT_VERSION) {
    throw new IdentityError(`${path} has format version ${String(r['version'])}, expected ${FORMAT_VERSION}`);
  }
  const incarnationId = checkField(r['incarnationId'], 'incarnationId', path);
  if (!/^[0-9a-f]{32}$/.test(incarnationId))
    throw new IdentityError(`${path}: incarnationId is not 32 hex digits`);
  return {
    clusterId: checkField(r['clusterId'], 'clusterId', path),
    shardId: checkField(r['shardId'], 'shardId', path),
    memberName: checkField(r['memberName'], 'memberName', path),
    nodeId: checkField(r['nodeId'], 'nodeId', path),
    incarnationId,
  };
}

/**
 * Reads the identity in `dir`, or creates it when the directory is fresh. Throws IdentityError when the stored
 * identity differs from `configured`, when the file is unreadable, or when data exists without an identity.
 */
export async function loadOrCreateIdentity(
  dir: string,
  configured: ConfiguredIdentity,
  options: IdentityOptions,
): Promise<LoadedIdentity> {
  checkField(configured.clusterId, 'clusterId', 'configuration');
  checkField(configured.shardId, 'shardId', 'configuration');
  checkField(configured.memberName, 'memberName', 'configuration');
  if (configured.nodeId !== undefined) checkField(configured.nodeId, 'nodeId', 'configuration');
  const fs = options.fs ?? nodeFileSystem;
  const path = join(dir, IDENTITY_FILE);

  let text: string | undefined;
  try {
    // ignoreBOM keeps a byte-order mark in the text (as readFile 'utf8' does), so such a file is refused as JSON.
    text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await fs.readFile(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }

  if (text !== undefined) {
    const stored = parseIdentity(text, path);
    const mismatches: string[] = [];
    const compare = (field: keyof ConfiguredIdentity, want: string | undefined): void => {
      if (want !== undefined && stored[field] !== want) {
        mismatches.push(`${field} is ${JSON.stringify(stored[field])}, configured ${JSON.stringify(want)}`);
      }
    };
    compare('clusterId', configured.clusterId);
    compare('shardId', configured.shardId);
    compare('memberName', configured.memberName);
    compare('nodeId', configured.nodeId);
    if (mismatches.length > 0) {
      throw new IdentityError(`data directory ${dir} belongs to another member: ${mismatches.join('; ')}`);
    }
    return { identity: stored, created: false };
  }

  if (options.dataPresent) {
    throw new IdentityError(
      `data directory ${dir} holds WAL or snapshot files but no ${IDENTITY_FILE} file; refusing to guess whose they are`,
    );
  }
  const random = options.randomBytes(INCARNATION_BYTES);
  if (random.length !== INCARNATION_BYTES) {
    throw new IdentityError(`randomBytes returned ${random.length} bytes, expected ${INCARNATION_BYTES}`);
  }
  const incarnationId = Buffer.from(random).toString('hex');
  const identity: MemberIdentity = {
    clusterId: configured.clusterId,
    shardId: configured.shardId,
    memberName: configured.memberName,
    // Unique per incarnation by default, as the Raft core requires of node ids.
    nodeId: configured.nodeId ?? `${configured.memberName}-${incarnationId.slice(0, 12)}`,
    incarnationId,
  };
  const body = JSON.stringify({ version: FORMAT_VERSION, ...identity }, null, 2) + '\n';
  await writeFileAtomic(dir, IDENTITY_FILE, new TextEncoder().encode(body), fs);
  return { identity, created: true };
}
