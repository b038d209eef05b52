// The part of the kubelet HTTPS API that `kubectl logs` needs: the API server proxies
// GET /containerLogs/<ns>/<pod>/<container>?follow=&tailLines=&previous=&limitBytes= to the node's
// status.daemonEndpoints port on its InternalIP. Served with the node's certificate (serverAuth, from its
// kubeconfig); clients must present a certificate signed by the cluster CA (the API server's kubelet client cert).
import { createReadStream, readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from './informer.js';

export interface LogSource {
  /** Path of the container's log file, or undefined if we do not run that pod/container. */
  logPath(
    namespace: string,
    pod: string,
    container: string | undefined,
    previous: boolean,
  ): string | undefined;
}

export interface LogRequest {
  namespace: string;
  pod: string;
  container: string | undefined;
  follow: boolean;
  previous: boolean;
  tailLines: number | undefined;
  limitBytes: number | undefined;
}

const FOLLOW_POLL_MS = 300;
const MAX_TAIL_READ_BYTES = 8 * 1024 * 1024;

export function parseLogRequest(url: URL): LogRequest | undefined {
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (m === null) return undefined;
  const num = (k: string): number | undefined => {
    const v = url.searchParams.get(k);
    if (v === null || !/^\d+$/.test(v)) return undefined;
    return Number(v);
  };
  return {
    namespace: decodeURIComponent(m[1] ?? ''),
    pod: decodeURIComponent(m[2] ?? ''),
    container: m[3] === undefined ? undefined : decodeURIComponent(m[3]),
    follow: url.searchParams.get('follow') === 'true',
    previous: url.searchParams.get('previous') === 'true',
    tailLines: num('tailLines'),
    limitBytes: num('limitBytes'),
  };
}

/** The last n lines of text (a trailing newline does not count as an extra empty line). */
export function tail(text: string, n: number): string {
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
  return lines.slice(-n).join('\n') + (trailing === '' ? '\n' : '');
}

function credentials(kubeconfigFile: string): {
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
} {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  const user = kc.getCurrentUser();
  const cluster = kc.getCurrentCluster();
  const pick = (data: string | undefined, file: string | undefined, what: string): Buffer => {
    if (data !== undefined) return Buffer.from(data, 'base64');
    if (file !== undefined) return readFileSync(file);
    throw new Error(`${kubeconfigFile}: no ${what}`);
  };
  return {
    cert: pick(user?.certData, user?.certFile, 'client certificate'),
    key: pick(user?.keyData, user?.keyFile, 'client key'),
    ca: pick(cluster?.caData, cluster?.caFile, 'certificate authority'),
  };
}

async function serveLog(res: ServerResponse, file: string, req: LogRequest): Promise<void> {
  let start = 0;
  const size = (await stat(file)).size;
  if (req.tailLines !== undefined) {
    const from = Math.max(0, size - MAX_TAIL_READ_BYTES);
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(size - from);
      await fh.read(buf, 0, buf.length, from);
      const text = tail(buf.toString('utf8'), req.tailLines);
      res.write(text);
    } finally {
      await fh.close();
    }
    start = size;
  }
  if (req.tailLines === undefined) {
    await new Promise<void>((resolve, reject) => {
      const s = createReadStream(file, {
        start: 0,
        end: req.limitBytes === undefined ? undefined : Math.max(0, req.limitBytes - 1),
      });
      s.on('error', reject);
      s.on('end', resolve);
      s.pipe(res, { end: false });
    });
    start = size;
  }
  if (!req.follow) {
    res.end();
    return;
  }
  // Follow: poll for appended bytes until the client goes away.
  let offset = start;
  let closed = false;
  res.on('close', () => (closed = true));
  while (!closed) {
    await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    const now = await stat(file).catch(() => undefined);
    if (now === undefined) break;
    if (now.size > offset) {
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(Math.min(now.size - offset, 1024 * 1024));
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        offset += bytesRead;
        res.write(buf.subarray(0, bytesRead));
      } finally {
        await fh.close();
      }
    }
  }
  res.end();
}

export async function startKubeletServer(
  kubeconfigFile: string,
  host: string,
  port: number,
  logs: LogSource,
  log: Logger,
): Promise<https.Server> {
  const creds = credentials(kubeconfigFile);
  const server = https.createServer({ ...creds, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') {
      res.end('ok');
      return;
    }
    const lr = parseLogRequest(url);
    if (req.method !== 'GET' || lr === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not supported by the raftstore node agent: ${req.method} ${url.pathname}\n`);
      return;
    }
    const file = logs.logPath(lr.namespace, lr.pod, lr.container, lr.previous);
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(
        `no logs for ${lr.namespace}/${lr.pod}/${lr.container ?? ''}${lr.previous ? ' (previous)' : ''}\n`,
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    serveLog(res, file, lr).catch((err: unknown) => {
      log.warn({ file, err: String(err) }, 'serving container log failed');
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
