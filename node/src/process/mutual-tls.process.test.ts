// Mutual TLS with real member processes: three members started with --tls-* files form a group over TLS (Raft,
// forwarding and the founders' start-up check all go through the one credentials module), serve a client that
// presents a certificate of the cluster's CA, and refuse one that presents none, one from another CA, or plaintext.
import { rm } from 'node:fs/promises';
import { ShardedKvClient } from '../../shared/client/sharded-kv-client.js';
import type { TransportSecurity } from '../../shared/security/transport-security.js';
import { createTestCa } from '../../testing/security/test-certificates.js';
import { localClusterSuite } from '../../testing/process/local-cluster-suite.js';

const ca = createTestCa('cluster');
const intruderCa = createTestCa('intruder');
const suite = localClusterSuite({ members: 3, fsync: false, logLevel: 'warn', tls: ca.issue('member') });

afterAll(async () => {
  await rm(ca.dir, { recursive: true, force: true });
  await rm(intruderCa.dir, { recursive: true, force: true });
});

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

async function attempt(security: TransportSecurity): Promise<string> {
  const client = new ShardedKvClient(suite().endpoints(), 1500, security);
  try {
    await client.put('tls-key', 'from a stranger');
    return 'served';
  } catch (err) {
    return (err as Error).message;
  } finally {
    client.close();
  }
}

test('a client with a certificate of the cluster CA writes and reads through every member', async () => {
  const client = new ShardedKvClient(suite().endpoints(), 10_000, {
    mode: 'mutualTls',
    files: ca.issue('app'),
  });
  try {
    await client.put('tls-key', 'over mutual TLS');
    for (const endpoint of suite().endpoints()) {
      const one = new ShardedKvClient([endpoint], 10_000, { mode: 'mutualTls', files: ca.issue('reader') });
      try {
        expect(text((await one.get('tls-key'))?.value)).toBe('over mutual TLS');
      } finally {
        one.close();
      }
    }
  } finally {
    client.close();
  }
}, 60_000);

test('plaintext and certificates of another CA (trusting the cluster CA or not) are refused', async () => {
  expect(await attempt({ mode: 'plaintext' })).not.toBe('served');
  expect(await attempt({ mode: 'mutualTls', files: intruderCa.issue('intruder') })).not.toBe('served');
  // The right CA to check the server with, but another CA's certificate to show: the member refuses the handshake.
  const foreign = intruderCa.issue('foreign');
  expect(await attempt({ mode: 'mutualTls', files: { ...foreign, caFile: ca.caFile } })).not.toBe('served');
}, 60_000);
