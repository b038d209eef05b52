// Member-to-member forwarding over one stream per address, both halves for real (a grpc-js server and channel on
// loopback) with the request handling faked: batching, replies matched by id in any order, failures as the unary
// call would have carried them, and every bound — the per-request timer, the pending cap, the message size — with
// the difference between "never sent" and "outcome unknown" that decides whether a caller may try elsewhere.
import { Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { KVService, type ForwardBatch } from '../../shared/api/generated/raftstore/v1/kv.js';
import { forwardHandler, ServedForwardStreams, type ForwardDispatch } from './forward-service.js';
import {
  ForwardStreams,
  isMemberStopping,
  UNARY_FALLBACK_MS,
  packBatches,
  type ForwardReply,
  type ForwardRequest,
} from './forward-stream.js';
import { isNotApplied, WrongShardError } from './grpc-errors.js';
import { LeaderForwarder, neverSent } from './leader-forwarder.js';
import { slotRedirectOf } from '../../shared/client/slot-redirect.js';
import type { InFlightLimit } from './unary-handler.js';
import { ROUTE_HOPS_HEADER } from './route-hops.js';
import { PLAINTEXT_CHANNEL } from '../../testing/transport/plaintext.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const get = (key: string): ForwardRequest => ({
  $case: 'get',
  get: { key: enc(key), serializable: false, header: undefined },
});
const found = (key: string): ForwardReply => ({
  $case: 'get',
  get: {
    header: undefined,
    kv: { key: enc(key), value: enc(`v:${key}`), createRevision: 1, modRevision: 1, version: 1 },
  },
});
const unimplemented = (): never => {
  throw new Error('not in this test');
};

interface Harness {
  readonly address: string;
  readonly batches: number[];
  readonly limit: InFlightLimit;
  dispatch: ForwardDispatch;
  readonly server: Server;
}

async function serve(maxMessageBytes = 1 << 20, served = new ServedForwardStreams()): Promise<Harness> {
  const server = new Server();
  const h: Harness = {
    address: '',
    batches: [],
    limit: { current: 0, max: 1000 },
    dispatch: (request) => Promise.resolve(found(request.$case === 'get' ? dec(request.get.key) : '?')),
    server,
  };
  const handler = forwardHandler((r, md) => h.dispatch(r, md), h.limit, undefined, maxMessageBytes, served);
  server.addService(KVService, {
    put: unimplemented,
    get: unimplemented,
    delete: unimplemented,
    range: unimplemented,
    txn: unimplemented,
    slotMap: unimplemented,
    forward: (call: Parameters<typeof handler>[0]) => {
      call.on('data', (b: ForwardBatch) => h.batches.push(b.requests.length));
      handler(call);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return Object.assign(h, { address: `127.0.0.1:${port}` });
}

describe('forwarding over one stream per address', () => {
  const channels = new LeaderForwarder(5000, 1 << 20, PLAINTEXT_CHANNEL);
  const streams = new ForwardStreams(channels, 1 << 20, 4);
  afterAll(() => {
    streams.close();
    channels.close();
  });

  test('requests sent in one turn leave in one message; replies come back in any order, matched by id', async () => {
    const h = await serve();
    try {
      const order: string[] = [];
      h.dispatch = async (request, md) => {
        const key = request.$case === 'get' ? dec(request.get.key) : '?';
        expect(md.get(ROUTE_HOPS_HEADER)).toEqual(['1']);
        await new Promise((r) => setTimeout(r, key === 'a' ? 30 : 1)); // 'a' answers last
        order.push(key);
        return found(key);
      };
      const replies = await Promise.all(['a', 'b', 'c'].map((k) => streams.send(h.address, 1, get(k), 2000)));
      expect(h.batches).toEqual([3]);
      expect(order).toEqual(['b', 'c', 'a']);
      expect(replies.map((r) => (r.$case === 'get' ? dec(r.get.kv!.value) : r.$case))).toEqual([
        'v:a',
        'v:b',
        'v:c',
      ]);
    } finally {
      h.server.forceShutdown();
    }
  });

  test('a failure comes back as the unary call would have failed: status, details and trailers', async () => {
    const h = await serve();
    try {
      h.dispatch = () =>
        Promise.reject(new WrongShardError({ slot: 7, epoch: 3, owner: 2, moving: false }, 1));
      const err = (await streams.send(h.address, 1, get('k'), 2000).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toBe('slot 7 is not served by shard 1; shard 2 serves it (epoch 3)');
      expect(slotRedirectOf(err)).toEqual({ slot: 7, epoch: 3, owner: 2, moving: false });
      expect(isNotApplied(err)).toBe(true);
    } finally {
      h.server.forceShutdown();
    }
  });

  test('every request has its own timer; a late reply is dropped and the stream goes on', async () => {
    const h = await serve();
    try {
      let release: () => void = () => undefined;
      h.dispatch = (request) =>
        request.$case === 'get' && dec(request.get.key) === 'slow'
          ? new Promise((r) => (release = () => r(found('slow'))))
          : Promise.resolve(found('fast'));
      const slow = streams.send(h.address, 1, get('slow'), 100).catch((e: unknown) => e as ServiceError);
      expect(await slow).toMatchObject({ code: status.DEADLINE_EXCEEDED });
      release();
      const fast = await streams.send(h.address, 1, get('fast'), 2000);
      expect(fast.$case === 'get' && dec(fast.get.kv!.value)).toBe('v:fast');
    } finally {
      h.server.forceShutdown();
    }
  });

  test('at most maxPending requests await a reply per address; the next one is refused, not queued', async () => {
    const h = await serve();
    try {
      const hold: (() => void)[] = [];
      h.dispatch = () => new Promise((r) => hold.push(() => r(found('held'))));
      const four = ['1', '2', '3', '4'].map((k) => streams.send(h.address, 1, get(k), 5000));
      const fifth = await streams.send(h.address, 1, get('5'), 5000).catch((e: unknown) => e as ServiceError);
      expect(fifth).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
      expect(isNotApplied(fifth)).toBe(true);
      await new Promise((r) => setTimeout(r, 50));
      for (const f of hold) f();
      expect(await Promise.all(four)).toHaveLength(4);
    } finally {
      h.server.forceShutdown();
    }
  });

  test('nobody listening: the requests were never sent, so a caller may try another member', async () => {
    const h = await serve();
    const address = h.address;
    h.server.forceShutdown();
    const err = (await streams.send(address, 1, get('k'), 5000).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(neverSent(err)).toBe(true);
  });

  test('a stream that breaks once connected leaves its requests’ outcome unknown (never passed as not sent)', async () => {
    const h = await serve();
    h.dispatch = () => new Promise(() => undefined); // received, never answered
    const pending = streams.send(h.address, 1, get('k'), 5000).then(
      () => undefined,
      (e: unknown) => e as ServiceError,
    );
    await new Promise((r) => setTimeout(r, 100));
    h.server.forceShutdown();
    const err = await pending;
    if (err === undefined) throw new Error('the request was answered');
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(neverSent(err)).toBe(false);
    expect(isNotApplied(err)).toBe(false);
    expect(err.message).toMatch(/may or may not have been applied/);
  });

  test('a server at its in-flight bound answers RESOURCE_EXHAUSTED for the requests beyond it', async () => {
    const h = await serve();
    try {
      h.limit.current = h.limit.max;
      const err = (await streams.send(h.address, 1, get('k'), 2000).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    } finally {
      h.server.forceShutdown();
    }
  });

  test('messages stay within the receiver’s limit: batches split, an item too large alone is refused', async () => {
    expect(
      packBatches([new Uint8Array(40), new Uint8Array(40), new Uint8Array(40)], 100).map((b) => b.length),
    ).toEqual([2, 1]);
    const small = new ForwardStreams(channels, 600);
    const h = await serve(600);
    try {
      const big = {
        $case: 'get',
        get: { key: new Uint8Array(700), serializable: false, header: undefined },
      } as const;
      const err = (await small.send(h.address, 1, big, 2000).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(isNotApplied(err)).toBe(true);
      expect(h.batches).toEqual([]);
      // Ten requests of ~110 bytes: more than one 600-byte message.
      const keys = Array.from({ length: 10 }, (_, i) => `${'k'.repeat(100)}${i}`);
      await Promise.all(keys.map((k) => small.send(h.address, 1, get(k), 2000).catch(() => undefined)));
      expect(h.batches.length).toBeGreaterThan(1);
      expect(h.batches.reduce((a, b) => a + b, 0)).toBe(10);
    } finally {
      small.close();
      h.server.forceShutdown();
    }
  });

  test('a stopping member answers what it took, ends its streams, and refuses new requests as not applied', async () => {
    const served = new ServedForwardStreams();
    const h = await serve(1 << 20, served);
    try {
      let release: () => void = () => undefined;
      h.dispatch = () => new Promise((r) => (release = () => r(found('taken'))));
      const taken = streams.send(h.address, 1, get('taken'), 5000);
      await new Promise((r) => setTimeout(r, 50));
      served.drain();
      release();
      const reply = await taken;
      expect(reply.$case === 'get' && dec(reply.get.kv!.value)).toBe('v:taken');
      // The stream ended once the reply was out; the next request opens a new one, which is refused unapplied.
      await new Promise((r) => setTimeout(r, 50));
      const refused = await streams.send(h.address, 1, get('late'), 5000).catch((e: unknown) => e);
      expect(isMemberStopping(refused)).toBe(true);
      expect(isNotApplied(refused)).toBe(true);
      // And the server's graceful shutdown is not held up by the forward streams.
      const t0 = Date.now();
      await new Promise<void>((resolve) => h.server.tryShutdown(() => resolve()));
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      h.server.forceShutdown();
    }
  });

  test('a member that predates KV.Forward (UNIMPLEMENTED) gets unary calls, then the stream is tried again', async () => {
    const server = new Server();
    const seen: string[] = [];
    server.addService(KVService, {
      put: unimplemented,
      delete: unimplemented,
      range: unimplemented,
      txn: unimplemented,
      slotMap: unimplemented,
      // An older member: Get as a unary call, no Forward at all.
      get: (
        call: { request: { key: Uint8Array }; metadata: { get(k: string): unknown[] } },
        cb: (e: null, r: unknown) => void,
      ) => {
        const key = dec(call.request.key);
        seen.push(`${key} hops=${String(call.metadata.get(ROUTE_HOPS_HEADER)[0])}`);
        const reply = found(key);
        cb(null, reply.$case === 'get' ? reply.get : undefined);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    let now = 1_000_000;
    const legacy = new ForwardStreams(channels, 1 << 20, 100, () => now);
    try {
      const address = `127.0.0.1:${port}`;
      const first = await Promise.all([
        legacy.send(address, 1, get('a'), 5000),
        legacy.send(address, 1, get('b'), 5000),
      ]);
      expect(first.map((r) => r.$case === 'get' && dec(r.get.kv!.value))).toEqual(['v:a', 'v:b']);
      const unary = await legacy.send(address, 2, get('c'), 5000); // within the fallback window: unary at once
      expect(unary.$case === 'get' && dec(unary.get.kv!.value)).toBe('v:c');
      now += UNARY_FALLBACK_MS + 1; // the member may have been upgraded: the stream is tried, and refused, again
      const again = await legacy.send(address, 1, get('d'), 5000);
      expect(again.$case === 'get' && dec(again.get.kv!.value)).toBe('v:d');
      expect(seen.sort()).toEqual(['a hops=1', 'b hops=1', 'c hops=2', 'd hops=1']);
    } finally {
      legacy.close();
      server.forceShutdown();
    }
  });
});
