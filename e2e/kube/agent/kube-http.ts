// A small JSON client for the Kubernetes API. We talk raw JSON (timestamps stay RFC 3339 strings) instead of the
// generated client's typed models, whose Date (de)serialisation makes "write status only when it changed" unreliable.
// Credentials (client cert/key, CA) come from a kubeconfig via @kubernetes/client-node's KubeConfig.
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(`${method} ${path}: HTTP ${status} ${reason}: ${message}`);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export type ContentType =
  'application/json' | 'application/merge-patch+json' | 'application/strategic-merge-patch+json';

const REQUEST_TIMEOUT_MS = 15_000;
const WATCH_TIMEOUT_SECONDS = 240;
const WATCH_IDLE_TIMEOUT_MS = 300_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class KubeHttp {
  private constructor(
    private readonly server: URL,
    private readonly tls: https.RequestOptions,
    private readonly agent: https.Agent,
    readonly userAgent: string,
  ) {}

  static async fromKubeconfig(file: string, userAgent: string): Promise<KubeHttp> {
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error(`kubeconfig ${file} has no current cluster`);
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 32 });
    return new KubeHttp(new URL(cluster.server), opts, agent, userAgent);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Bearer-token kubeconfigs put their Authorization header into the options KubeConfig fills in. */
  private authHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    const h = this.tls.headers;
    if (h !== undefined && !Array.isArray(h))
      for (const [k, v] of Object.entries(h)) if (typeof v === 'string') out[k] = v;
    return out;
  }

  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    contentType: ContentType = 'application/json',
  ): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return await new Promise<T>((resolve, reject) => {
      const req = https.request(
        {
          ...this.tls,
          agent: this.agent,
          protocol: this.server.protocol,
          hostname: this.server.hostname,
          port: this.server.port,
          method,
          path,
          timeout: REQUEST_TIMEOUT_MS,
          headers: {
            ...this.authHeaders(),
            accept: 'application/json',
            'user-agent': this.userAgent,
            ...(payload === undefined
              ? {}
              : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES)
              req.destroy(new Error(`${method} ${path}: response larger than ${MAX_RESPONSE_BYTES} bytes`));
            else chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                resolve((text === '' ? {} : JSON.parse(text)) as T);
              } catch (e) {
                reject(new Error(`${method} ${path}: invalid JSON response: ${String(e)}`));
              }
              return;
            }
            let reason = res.statusMessage ?? '';
            let message = text.slice(0, 500);
            try {
              const st = JSON.parse(text) as { reason?: string; message?: string };
              reason = st.reason ?? reason;
              message = st.message ?? message;
            } catch {
              // Not a Status object: keep the raw text.
            }
            reject(new KubeApiError(method, path, status, reason, message));
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path}: no response within ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /**
   * Streams watch events until the server closes the watch (after at most WATCH_TIMEOUT_SECONDS), the signal aborts
   * or the connection fails. Resolves on a clean end; rejects on failure so the caller re-lists.
   */
  async watch<T>(
    path: string,
    resourceVersion: string,
    onEvent: (ev: WatchEvent<T>) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const sep = path.includes('?') ? '&' : '?';
    const full = `${path}${sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=${WATCH_TIMEOUT_SECONDS}&resourceVersion=${encodeURIComponent(resourceVersion)}`;
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const req = https.request(
        {
          ...this.tls,
          agent: this.agent,
          protocol: this.server.protocol,
          hostname: this.server.hostname,
          port: this.server.port,
          method: 'GET',
          path: full,
          headers: { ...this.authHeaders(), accept: 'application/json', 'user-agent': this.userAgent },
        },
        (res) => {
          if (res.statusCode !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              reject(
                new KubeApiError(
                  'WATCH',
                  path,
                  res.statusCode ?? 0,
                  res.statusMessage ?? '',
                  Buffer.concat(chunks).toString('utf8').slice(0, 500),
                ),
              ),
            );
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line === '') continue;
              let ev: WatchEvent<T>;
              try {
                ev = JSON.parse(line) as WatchEvent<T>;
              } catch (e) {
                req.destroy(new Error(`watch ${path}: invalid event JSON: ${String(e)}`));
                return;
              }
              if (ev.type === 'ERROR') {
                const st = ev.object as { code?: number; reason?: string; message?: string };
                req.destroy(
                  new KubeApiError('WATCH', path, st.code ?? 500, st.reason ?? 'Error', st.message ?? ''),
                );
                return;
              }
              onEvent(ev);
            }
          });
          res.on('end', () => resolve());
          // A connection cut without a clean end must still end this watch, or the informer would wait forever.
          res.on('close', () => resolve());
          res.on('error', reject);
        },
      );
      const onAbort = (): void => {
        req.destroy();
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => (signal.aborted ? resolve() : reject(e)));
      // The server sends bookmarks about once a minute; silence for this long means the connection is dead.
      req.setTimeout(WATCH_IDLE_TIMEOUT_MS, () =>
        req.destroy(new Error(`watch ${path}: no data for ${WATCH_IDLE_TIMEOUT_MS} ms`)),
      );
      req.on('close', () => signal.removeEventListener('abort', onAbort));
      req.end();
    });
  }
}
