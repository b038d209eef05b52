// The member's small HTTP server for Kubernetes probes, Prometheus and humans: GET /livez, /readyz, /metrics and
// /status. It never touches Raft state itself; every answer comes from callbacks the host provides, so the server
// can be tested with plain functions. Everything is bounded: header and request timeouts, header size, no request
// bodies, a time limit on each callback, and a close() that force-closes connections after a grace period.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export interface ReadinessCheck {
  /** Short and stable, e.g. `has-leader`, `applied-caught-up`. */
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed (or a detail when it passed); shown to whoever reads /readyz. */
  readonly message: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: readonly ReadinessCheck[];
}

/** What /metrics serves; NodeMetrics and a prom-client Registry both fit. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface HttpServerOptions {
  readonly host: string;
  /** 0 lets the OS choose; start() returns the bound port. */
  readonly port: number;
  /** True while the member's main loop is making progress; false makes /livez fail so the kubelet restarts it. */
  readonly live: () => boolean;
  readonly readiness: () => Readiness | Promise<Readiness>;
  readonly metrics: MetricsSource;
  /** Any JSON-serialisable value (or a promise of one) describing the member, served at /status. */
  readonly status: () => unknown;
  /** Bound on each callback; a probe that hangs would otherwise hold a connection until the kubelet gives up. */
  readonly callbackTimeoutMs?: number;
  /** Bound on receiving a whole request (headers included). */
  readonly requestTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  /** After this, close() drops connections still open instead of waiting for them. */
  readonly closeGraceMs?: number;
  readonly logger?: Logger;
}

export interface BoundAddress {
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_CALLBACK_TIMEOUT_MS = 2_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 5_000;
export const DEFAULT_CLOSE_GRACE_MS = 2_000;
const MAX_HEADER_BYTES = 8 * 1024;
/** Keep-alive idle connections are cheap but not free; a scraper reconnecting every 15 s does not need more. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

class CallbackTimeoutError extends Error {
  override readonly name = 'CallbackTimeoutError';
}

export class ObservabilityHttpServer {
  private readonly server: Server;
  private readonly callbackTimeoutMs: number;
  private readonly closeGraceMs: number;
  private state: 'new' | 'starting' | 'listening' | 'closing' | 'closed' = 'new';

  constructor(private readonly options: HttpServerOptions) {
    this.callbackTimeoutMs = positive(
      options.callbackTimeoutMs ?? DEFAULT_CALLBACK_TIMEOUT_MS,
      'callbackTimeoutMs',
    );
    this.closeGraceMs = positive(options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS, 'closeGraceMs');
    const requestTimeout = positive(
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      'requestTimeoutMs',
    );
    const headersTimeout = Math.min(
      positive(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, 'headersTimeoutMs'),
      requestTimeout,
    );
    this.server = createServer({
      requestTimeout,
      headersTimeout,
      maxHeaderSize: MAX_HEADER_BYTES,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Node checks the two timeouts above only this often (30 s by default), which would stretch them.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 2))),
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger?.error({ err, url: req.url }, 'http handler failed');
        if (!res.headersSent) send(res, 500, TEXT, 'internal error\n');
        else res.destroy();
      });
    });
  }

  /** Starts listening; resolves with the bound address once the socket is open. */
  start(): Promise<BoundAddress> {
    if (this.state !== 'new')
      return Promise.reject(new Error(`http server: start() called when ${this.state}`));
    this.state = 'starting';
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.state = 'closed';
        reject(new Error(`http server: cannot listen on ${host}:${port}: ${err.message}`, { cause: err }));
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.options.logger?.error({ err }, 'http server error'));
        this.state = 'listening';
        const address = this.server.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /**
   * Stops accepting connections, lets in-flight requests finish for up to closeGraceMs, then drops what is left.
   * Resolves once the listening socket is closed; calling it again, or before start(), is harmless.
   */
  close(): Promise<void> {
    if (this.state === 'new' || this.state === 'closed') {
      this.state = 'closed';
      return Promise.resolve();
    }
    this.state = 'closing';
    return new Promise((resolve) => {
      const force = setTimeout(() => this.server.closeAllConnections(), this.closeGraceMs);
      this.server.close(() => {
        clearTimeout(force);
        this.state = 'closed';
        resolve();
      });
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      send(res, 405, TEXT, `method ${req.method ?? ''} not allowed; use GET\n`);
      return;
    }
    // No endpoint takes a body; refusing one (and closing) keeps a client from streaming into an unread socket.
    if ((req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined) {
      res.setHeader('Connection', 'close');
      send(res, 413, TEXT, 'request bodies are not accepted\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    switch (url.pathname) {
      case '/livez':
        return this.livez(res);
      case '/readyz':
        return this.readyz(res, url.searchParams.has('verbose'));
      case '/metrics':
        return this.metrics(res);
      case '/status':
        return this.status(res);
      default:
        send(res, 404, TEXT, `not found: ${url.pathname}; try /livez, /readyz, /metrics or /status\n`);
    }
  }

  private livez(res: ServerResponse): void {
    let live: boolean;
    try {
      live = this.options.live();
    } catch (err) {
      this.options.logger?.warn({ err }, 'livez callback threw');
      live = false;
    }
    if (live) send(res, 200, TEXT, 'ok');
    else send(res, 503, TEXT, 'livez check failed: the main loop is not making progress\n');
  }

  private async readyz(res: ServerResponse, verbose: boolean): Promise<void> {
    let readiness: Readiness;
    try {
      readiness = await this.bounded(() => this.options.readiness(), 'readiness');
    } catch (err) {
      this.options.logger?.warn({ err }, 'readiness callback failed');
      const message = err instanceof Error ? err.message : String(err);
      send(res, 503, TEXT, `[-]readiness failed: ${message}\nreadyz check failed\n`);
      return;
    }
    if (readiness.ready && !verbose) {
      send(res, 200, TEXT, 'ok');
      return;
    }
    // kube-apiserver's format: one [+]/[-] line per check, then a verdict line.
    const lines = readiness.checks
      .filter((c) => verbose || !c.ok)
      .map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${c.message}`));
    lines.push(readiness.ready ? 'readyz check passed' : 'readyz check failed');
    send(res, readiness.ready ? 200 : 503, TEXT, lines.join('\n') + '\n');
  }

  private async metrics(res: ServerResponse): Promise<void> {
    let text: string;
    try {
      text = await this.bounded(() => this.options.metrics.metrics(), 'metrics');
    } catch (err) {
      this.options.logger?.warn({ err }, 'metrics collection failed');
      send(
        res,
        500,
        TEXT,
        `metrics collection failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
      return;
    }
    send(res, 200, this.options.metrics.contentType, text);
  }

  private async status(res: ServerResponse): Promise<void> {
    let body: string;
    try {
      const value = await this.bounded(() => this.options.status(), 'status');
      body = JSON.stringify(value) ?? 'null';
    } catch (err) {
      this.options.logger?.warn({ err }, 'status callback failed');
      const message = err instanceof Error ? err.message : String(err);
      send(res, 500, JSON_TYPE, JSON.stringify({ error: `status unavailable: ${message}` }));
      return;
    }
    send(res, 200, JSON_TYPE, body);
  }

  /** Runs a callback (sync or async), failing with CallbackTimeoutError if it takes longer than allowed. */
  private bounded<T>(callback: () => T | Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CallbackTimeoutError(`${what} did not answer within ${this.callbackTimeoutMs} ms`)),
        this.callbackTimeoutMs,
      );
      // A callback that never settles must not keep the process alive through its timer.
      timer.unref();
      void Promise.resolve()
        .then(callback)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
  }
}

function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    // Probe answers and metrics are point-in-time: nothing between here and the reader may cache them.
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`http server: ${name} must be a positive integer, got ${value}`);
  return value;
}
