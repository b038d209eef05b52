import { request as httpRequest, Agent } from 'node:http';
import { connect } from 'node:net';
import { NodeMetrics } from '../../src/observability/node-metrics.js';
import { ObservabilityHttpServer, type HttpServerOptions, type Readiness } from './http-server.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One real HTTP request over a fresh connection (no keep-alive unless an agent is given). */
function request(
  port: number,
  path: string,
  options: { method?: string; body?: string; agent?: Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        agent: options.agent ?? false,
        // Node's client sends a GET body with no framing header at all; declare its length like a real client.
        headers: options.body === undefined ? {} : { 'Content-Length': Buffer.byteLength(options.body) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const READY: Readiness = {
  ready: true,
  checks: [
    { name: 'has-leader', ok: true, message: 'leader node-1' },
    { name: 'applied-caught-up', ok: true, message: 'applied 10 of 10' },
  ],
};

const NOT_READY: Readiness = {
  ready: false,
  checks: [
    { name: 'has-leader', ok: false, message: 'no leader in term 4' },
    { name: 'applied-caught-up', ok: true, message: 'applied 10 of 10' },
    { name: 'data-dir', ok: false, message: 'disk full' },
  ],
};

const servers: ObservabilityHttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(overrides: Partial<HttpServerOptions> = {}): Promise<number> {
  const server = new ObservabilityHttpServer({
    host: '127.0.0.1',
    port: 0,
    live: () => true,
    readiness: () => READY,
    metrics: new NodeMetrics({ processMetrics: false }),
    status: () => ({ member: 'node-0', term: 3 }),
    ...overrides,
  });
  servers.push(server);
  const address = await server.start();
  expect(address.host).toBe('127.0.0.1');
  expect(address.port).toBeGreaterThan(0);
  return address.port;
}

describe('GET /livez', () => {
  it('answers ok while the loop is alive and 503 once it is not', async () => {
    let alive = true;
    const port = await startServer({ live: () => alive });
    expect(await request(port, '/livez')).toMatchObject({ status: 200, body: 'ok' });
    alive = false;
    const r = await request(port, '/livez');
    expect(r.status).toBe(503);
    expect(r.body).toContain('livez check failed');
  });

  it('treats a throwing callback as not live', async () => {
    const port = await startServer({
      live: () => {
        throw new Error('boom');
      },
    });
    expect((await request(port, '/livez')).status).toBe(503);
  });
});

describe('GET /readyz', () => {
  it('answers ok when ready, and lists every check with ?verbose', async () => {
    const port = await startServer();
    const plain = await request(port, '/readyz');
    expect(plain).toMatchObject({ status: 200, body: 'ok' });
    expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('no-store');
    expect(await request(port, '/readyz?verbose')).toMatchObject({
      status: 200,
      body: '[+]has-leader ok\n[+]applied-caught-up ok\nreadyz check passed\n',
    });
  });

  it('answers 503 with the failed checks, and all checks with ?verbose', async () => {
    const port = await startServer({ readiness: () => Promise.resolve(NOT_READY) });
    expect(await request(port, '/readyz')).toEqual(
      expect.objectContaining({
        status: 503,
        body: '[-]has-leader failed: no leader in term 4\n[-]data-dir failed: disk full\nreadyz check failed\n',
      }),
    );
    expect((await request(port, '/readyz?verbose=1')).body).toBe(
      '[-]has-leader failed: no leader in term 4\n[+]applied-caught-up ok\n[-]data-dir failed: disk full\nreadyz check failed\n',
    );
  });

  it('answers 503 when the readiness callback throws', async () => {
    const port = await startServer({
      readiness: () => {
        throw new Error('status lock poisoned');
      },
    });
    expect(await request(port, '/readyz')).toMatchObject({
      status: 503,
      body: '[-]readiness failed: status lock poisoned\nreadyz check failed\n',
    });
  });

  it('answers 503 when the readiness callback does not answer in time', async () => {
    const port = await startServer({
      readiness: () => new Promise<Readiness>(() => {}),
      callbackTimeoutMs: 30,
    });
    expect(await request(port, '/readyz')).toMatchObject({
      status: 503,
      body: '[-]readiness failed: readiness did not answer within 30 ms\nreadyz check failed\n',
    });
  });
});

describe('GET /metrics', () => {
  it('serves the registry exposition with its content type', async () => {
    const metrics = new NodeMetrics({ processMetrics: false });
    metrics.countProposals(3, 'ok');
    const port = await startServer({ metrics });
    const r = await request(port, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(metrics.contentType);
    expect(r.body).toContain('raftstore_proposals_total{result="ok"} 3');
  });

  it('answers 500 when collection fails', async () => {
    const port = await startServer({
      metrics: { contentType: 'text/plain', metrics: () => Promise.reject(new Error('collector broke')) },
    });
    expect(await request(port, '/metrics')).toMatchObject({
      status: 500,
      body: 'metrics collection failed: collector broke\n',
    });
  });
});

describe('GET /status', () => {
  it('serves the callback value as JSON', async () => {
    const port = await startServer();
    const r = await request(port, '/status');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(r.body)).toEqual({ member: 'node-0', term: 3 });
  });

  it('answers 500 with a JSON error when the value cannot be serialised', async () => {
    const port = await startServer({ status: () => ({ index: 1n }) });
    const r = await request(port, '/status');
    expect(r.status).toBe(500);
    const body = JSON.parse(r.body) as { error?: unknown };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error).toMatch(/^status unavailable: .*BigInt/);
  });

  it('answers 500 with a JSON error when the callback throws', async () => {
    const port = await startServer({
      status: () => {
        throw new Error('not started');
      },
    });
    expect(await request(port, '/status')).toMatchObject({
      status: 500,
      body: '{"error":"status unavailable: not started"}',
    });
  });
});

describe('everything else', () => {
  it('answers 404 for unknown paths', async () => {
    const port = await startServer();
    expect(await request(port, '/healthz')).toMatchObject({
      status: 404,
      body: 'not found: /healthz; try /livez, /readyz, /metrics or /status\n',
    });
  });

  it('answers 405 with Allow: GET for other methods', async () => {
    const port = await startServer();
    const r = await request(port, '/livez', { method: 'POST' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET');
    expect((await request(port, '/metrics', { method: 'HEAD' })).status).toBe(405);
  });

  it('refuses request bodies with 413 and closes the connection', async () => {
    const port = await startServer();
    const r = await request(port, '/status', { body: 'x'.repeat(100) });
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    expect(r.body).toBe('request bodies are not accepted\n');
  });

  it('refuses chunked request bodies with 413', async () => {
    const port = await startServer();
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /livez HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('answers 408 and closes a connection whose headers do not arrive in time', async () => {
    const port = await startServer({ headersTimeoutMs: 100 });
    const socket = connect(port, '127.0.0.1');
    socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n'); // never finished
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('refuses oversized headers with 431', async () => {
    const port = await startServer();
    const socket = connect(port, '127.0.0.1');
    socket.write(`GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(received).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('lifecycle', () => {
  it('refuses a second start, and reports a port in use naming the address', async () => {
    const port = await startServer();
    await expect(servers[0]?.start()).rejects.toThrow('start() called when listening');
    const clash = new ObservabilityHttpServer({
      host: '127.0.0.1',
      port,
      live: () => true,
      readiness: () => READY,
      metrics: new NodeMetrics({ processMetrics: false }),
      status: () => null,
    });
    await expect(clash.start()).rejects.toThrow(
      `http server: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`,
    );
    await clash.close();
  });

  it('closes promptly despite an idle keep-alive connection, and close is idempotent', async () => {
    const port = await startServer();
    const agent = new Agent({ keepAlive: true });
    expect((await request(port, '/livez', { agent })).status).toBe(200);
    const server = servers[0];
    await server?.close();
    await server?.close();
    await expect(request(port, '/livez')).rejects.toThrow(/ECONNREFUSED/);
    agent.destroy();
  });

  it('drops a request still running when the close grace period ends', async () => {
    let called!: () => void;
    const statusCalled = new Promise<void>((resolve) => (called = resolve));
    const port = await startServer({
      closeGraceMs: 20,
      callbackTimeoutMs: 60_000,
      status: () => {
        called();
        return new Promise(() => {});
      },
    });
    const pending = request(port, '/status');
    await statusCalled;
    await servers[0]?.close();
    await expect(pending).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('can be closed without having started', async () => {
    const server = new ObservabilityHttpServer({
      host: '127.0.0.1',
      port: 0,
      live: () => true,
      readiness: () => READY,
      metrics: new NodeMetrics({ processMetrics: false }),
      status: () => null,
    });
    await server.close();
    await expect(server.start()).rejects.toThrow('start() called when closed');
  });

  it('refuses non-positive bounds', () => {
    const base: HttpServerOptions = {
      host: '127.0.0.1',
      port: 0,
      live: () => true,
      readiness: () => READY,
      metrics: new NodeMetrics({ processMetrics: false }),
      status: () => null,
    };
    expect(() => new ObservabilityHttpServer({ ...base, callbackTimeoutMs: 0 })).toThrow(
      'http server: callbackTimeoutMs must be a positive integer, got 0',
    );
    expect(() => new ObservabilityHttpServer({ ...base, requestTimeoutMs: -1 })).toThrow(/requestTimeoutMs/);
  });
});
