// A peer's DNS name that points at another live member (all pods restarted at once, IPs shuffled, DNS not yet
// updated) must not stick: once the name is corrected, messages must reach the right member within a bound.
//
// DNS is simulated by a grpc-js resolver for the scheme `swapdns:` that behaves like the DNS resolver where it
// matters: it looks the name up when the channel starts and whenever grpc-js asks again (only after a connection
// failure), answering from a table the test edits.

import { experimental, status } from '@grpc/grpc-js';
import type { NodeId } from '../raft/types.js';
import { PeerTransport } from './peer-transport.js';
import { message, Recorder, startServer, type TestServer } from '../../testing/transport/test-harness.js';

const SCHEME = 'swapdns';
const records = new Map<string, { host: string; port: number }>();
let lookups = 0;

class SwapDnsResolver implements experimental.Resolver {
  constructor(
    private readonly target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
  ) {}

  updateResolution(): void {
    process.nextTick(() => {
      lookups += 1;
      const record = records.get(this.target.path);
      if (record === undefined) {
        this.listener(
          experimental.statusOrFromError({
            code: status.UNAVAILABLE,
            details: `no record for ${this.target.path}`,
          }),
          {},
          null,
          '',
        );
        return;
      }
      this.listener(experimental.statusOrFromValue([{ addresses: [record] }]), {}, null, '');
    });
  }

  destroy(): void {}

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path;
  }
}

experimental.registerResolver(SCHEME, SwapDnsResolver);

const open: PeerTransport[] = [];
const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  for (const s of servers.splice(0)) s.stop();
  records.clear();
});

async function server(member: NodeId): Promise<TestServer> {
  const started = await startServer({ member });
  servers.push(started);
  return started;
}

describe('PeerChannel', () => {
  it('recreates the channel (a fresh lookup) after the peer refused as another member, paced per peer', async () => {
    const intervalMs = 300;
    const b = await server('b');
    const c = await server('c'); // the pod that now holds b's old IP: alive, and another member
    records.set('b', { host: '127.0.0.1', port: c.port }); // stale DNS: b's name points at c
    const unreachable = new Recorder<NodeId>();
    const transport = new PeerTransport({
      shardId: 1,
      selfId: 'a',
      resolve: (id) => `${SCHEME}:${id}`, // the name never changes; only what it resolves to
      onUnreachable: (id) => unreachable.push(id),
      onSnapshotStatus: () => {},
      random: () => 0.5,
      backoff: { initialMs: 20, maxMs: 100 },
      timeouts: { closeMs: 2000, endTimeoutMs: 1000, channelRecreateMinIntervalMs: intervalMs },
    });
    open.push(transport);

    // While DNS stays stale every stream is refused, and the name is looked up at most once per interval. The
    // timer plays the leader's heartbeats: streams open only when something is queued.
    const startedMs = Date.now();
    const heartbeats = setInterval(() => transport.send([message('heartbeat', 'a', 'b', 1)]), 20);
    try {
      await unreachable.waitFor((ids) => ids.length >= 8, 10_000, 'eight refused streams');
    } finally {
      clearInterval(heartbeats);
    }
    const elapsedMs = Date.now() - startedMs;
    expect(transport.peerStats('b')?.lastSendError).toMatch(/^FAILED_PRECONDITION: .*'b'.*'c'/);
    expect(lookups).toBeGreaterThanOrEqual(2); // without the fix: exactly 1, the channel's first lookup
    expect(lookups).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / intervalMs) + 1);
    expect(b.delivered.items).toEqual([]);
    expect(c.delivered.items).toEqual([]);

    // DNS is corrected while c stays up: heartbeats reach b again, within a few pacing intervals.
    records.set('b', { host: '127.0.0.1', port: b.port });
    const correctedMs = Date.now();
    const more = setInterval(() => transport.send([message('heartbeat', 'a', 'b', 2)]), 20);
    try {
      await b.delivered.waitFor((d) => d.length > 0, 5000, 'delivery to b after DNS was corrected');
    } finally {
      clearInterval(more);
    }
    expect(Date.now() - correctedMs).toBeLessThan(intervalMs + 2000);
    expect(c.delivered.items).toEqual([]);
  }, 30_000);
});
