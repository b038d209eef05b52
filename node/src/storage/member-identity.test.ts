import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityError } from './errors.js';
import { IDENTITY_FILE, loadOrCreateIdentity, type ConfiguredIdentity } from './member-identity.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'identity-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deterministic random source: successive calls return 0x01.., 0x02.., ... */
function counterRandom(): (n: number) => Uint8Array {
  let k = 0;
  return (n) => new Uint8Array(n).fill(++k);
}

const me: ConfiguredIdentity = { clusterId: 'c1', shardId: 's0', memberName: 'kv-0' };

describe('member identity', () => {
  it('creates the identity once, with a random incarnation and a node id derived from it', async () => {
    const random = counterRandom();
    const first = await loadOrCreateIdentity(dir, me, { randomBytes: random, dataPresent: false });
    expect(first.created).toBe(true);
    expect(first.identity).toEqual({
      clusterId: 'c1',
      shardId: 's0',
      memberName: 'kv-0',
      nodeId: 'kv-0-010101010101',
      incarnationId: '01'.repeat(16),
    });
    expect(await readdir(dir)).toEqual([IDENTITY_FILE]);

    const second = await loadOrCreateIdentity(dir, me, { randomBytes: random, dataPresent: true });
    expect(second).toEqual({ identity: first.identity, created: false });
  });

  it('gives a wiped directory a new incarnation and node id', async () => {
    const random = counterRandom();
    const before = await loadOrCreateIdentity(dir, me, { randomBytes: random, dataPresent: false });
    await rm(join(dir, IDENTITY_FILE));
    const after = await loadOrCreateIdentity(dir, me, { randomBytes: random, dataPresent: false });
    expect(after.created).toBe(true);
    expect(after.identity.incarnationId).not.toBe(before.identity.incarnationId);
    expect(after.identity.nodeId).not.toBe(before.identity.nodeId);
  });

  it('keeps a configured node id and checks it later', async () => {
    const opts = { randomBytes: counterRandom(), dataPresent: false };
    const { identity } = await loadOrCreateIdentity(dir, { ...me, nodeId: 'n7' }, opts);
    expect(identity.nodeId).toBe('n7');
    await expect(loadOrCreateIdentity(dir, { ...me, nodeId: 'n8' }, opts)).rejects.toThrow(
      'nodeId is "n7", configured "n8"',
    );
  });

  it('refuses a directory that belongs to another member, listing every difference', async () => {
    const opts = { randomBytes: counterRandom(), dataPresent: false };
    await loadOrCreateIdentity(dir, me, opts);
    const err = await loadOrCreateIdentity(dir, { ...me, shardId: 's1', memberName: 'kv-1' }, opts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as Error).message).toBe(
      `data directory ${dir} belongs to another member: shardId is "s0", configured "s1"; ` +
        'memberName is "kv-0", configured "kv-1"',
    );
  });

  it('refuses data without an identity rather than starting a new incarnation over it', async () => {
    await expect(
      loadOrCreateIdentity(dir, me, { randomBytes: counterRandom(), dataPresent: true }),
    ).rejects.toThrow(/holds WAL or snapshot files but no IDENTITY file/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an unreadable or malformed identity file', async () => {
    const opts = { randomBytes: counterRandom(), dataPresent: true };
    await writeFile(join(dir, IDENTITY_FILE), '{not json');
    await expect(loadOrCreateIdentity(dir, me, opts)).rejects.toThrow(/is not valid JSON/);
    await writeFile(join(dir, IDENTITY_FILE), JSON.stringify({ version: 2 }));
    await expect(loadOrCreateIdentity(dir, me, opts)).rejects.toThrow(/format version 2, expected 1/);
    await rm(join(dir, IDENTITY_FILE));
    await loadOrCreateIdentity(dir, me, { ...opts, dataPresent: false });
    const stored = JSON.parse(await readFile(join(dir, IDENTITY_FILE), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, IDENTITY_FILE), JSON.stringify({ ...stored, incarnationId: 'xyz' }));
    await expect(loadOrCreateIdentity(dir, me, opts)).rejects.toThrow(/incarnationId is not 32 hex digits/);
  });

  it('refuses bad configuration and a short random source', async () => {
    const opts = { randomBytes: counterRandom(), dataPresent: false };
    await expect(loadOrCreateIdentity(dir, { ...me, clusterId: '' }, opts)).rejects.toThrow(
      /configuration: clusterId must be a string/,
    );
    await expect(
      loadOrCreateIdentity(dir, me, { randomBytes: () => new Uint8Array(3), dataPresent: false }),
    ).rejects.toThrow(/returned 3 bytes, expected 16/);
  });
});
