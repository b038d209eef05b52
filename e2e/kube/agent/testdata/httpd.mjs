// The e2e test image `raftstore/e2e-httpd`: a tiny HTTP server that lets tests look inside a pod from outside.
//   GET  /healthz                 200 ok (GET /healthz?fail=1 toggles failing readiness: 503 from then on)
//   GET  /whoami                  {hostname, pod, namespace, ip, version}
//   PUT  /data/<name>             store the body in $DATA_DIR/<name> (default /data)
//   GET  /data/<name>             read it back (404 if missing)
//   GET  /fetch?url=<url>         fetch a URL from inside the pod: {status, body} (DNS + TCP between pods)
//   GET  /resolve?name=<host>     DNS lookup from inside the pod: {addresses}
//   GET  /kube?path=<api path>[&verb=GET]  call the API server with the pod's service-account token: {status, body}
//   GET  /file?path=<abs path>    read a file as the pod sees it (volumes, resolv.conf)
//   GET  /env                     the process environment
// Port: $PORT or --port N (default 8080). Exits 0 on SIGTERM after closing the listener.
/* global process, Buffer, URL, fetch, AbortSignal, console -- Node.js globals; this script runs as plain node, not through TypeScript. */
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns/promises';
import os from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const argPort = process.argv.indexOf('--port');
const port = Number(argPort > 0 ? process.argv[argPort + 1] : (process.env.PORT ?? 8080));
const dataDir = process.env.DATA_DIR ?? '/data';
const saDir = '/var/run/secrets/kubernetes.io/serviceaccount';
let failing = false;

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 1024 * 1024) throw new Error('body too large');
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function safeName(name) {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`bad name ${name}`);
  return name;
}

async function kubeCall(apiPath, verb) {
  const [token, ca] = await Promise.all([readFile(`${saDir}/token`, 'utf8'), readFile(`${saDir}/ca.crt`)]);
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const kport = process.env.KUBERNETES_SERVICE_PORT;
  return await new Promise((resolve, reject) => {
    const req = https.request(
      {
        host,
        port: kport,
        path: apiPath,
        method: verb,
        ca,
        servername: 'kubernetes.default.svc',
        headers: { authorization: `Bearer ${token.trim()}`, accept: 'application/json' },
        timeout: 5000,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8').slice(0, 2000) }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (url.pathname === '/healthz') {
      if (url.searchParams.get('fail') === '1') failing = true;
      if (url.searchParams.get('fail') === '0') failing = false;
      return send(res, failing ? 503 : 200, failing ? 'failing' : 'ok');
    }
    if (url.pathname === '/whoami') {
      const ips = Object.values(os.networkInterfaces())
        .flat()
        .filter((i) => i && i.family === 'IPv4' && !i.internal)
        .map((i) => i.address);
      return send(res, 200, {
        hostname: os.hostname(),
        pod: process.env.POD_NAME ?? null,
        namespace: process.env.POD_NAMESPACE ?? null,
        ip: ips[0] ?? null,
        version: process.env.HTTPD_VERSION ?? '1',
      });
    }
    if (url.pathname.startsWith('/data/')) {
      const file = path.join(dataDir, safeName(url.pathname.slice('/data/'.length)));
      if (req.method === 'PUT') {
        await mkdir(dataDir, { recursive: true });
        await writeFile(file, await readBody(req));
        return send(res, 200, 'stored');
      }
      try {
        return send(res, 200, await readFile(file, 'utf8'));
      } catch {
        return send(res, 404, 'not found');
      }
    }
    if (url.pathname === '/fetch') {
      const r = await fetch(url.searchParams.get('url') ?? '', { signal: AbortSignal.timeout(5000) });
      return send(res, 200, { status: r.status, body: (await r.text()).slice(0, 2000) });
    }
    if (url.pathname === '/resolve') {
      const addrs = await dns.lookup(url.searchParams.get('name') ?? '', { all: true, family: 4 });
      return send(res, 200, { addresses: addrs.map((a) => a.address) });
    }
    if (url.pathname === '/kube')
      return send(
        res,
        200,
        await kubeCall(url.searchParams.get('path') ?? '/api', url.searchParams.get('verb') ?? 'GET'),
      );
    if (url.pathname === '/file')
      return send(res, 200, await readFile(url.searchParams.get('path') ?? '', 'utf8'));
    if (url.pathname === '/env') return send(res, 200, process.env);
    return send(res, 404, 'no route');
  } catch (err) {
    return send(res, 500, { error: String(err?.message ?? err) });
  }
});

server.listen(port, '0.0.0.0', () => console.log(`e2e-httpd listening on :${port} as ${os.hostname()}`));
process.on('SIGTERM', () => {
  console.log('SIGTERM: closing');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
