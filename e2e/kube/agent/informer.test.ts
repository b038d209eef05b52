// KubeHttp + Informer against a scripted HTTPS API server: list, watch events, re-list after 410 Gone, and errors
// that carry the API's reason. The server's certificate is made with openssl in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Informer } from './informer.js';
import { KubeApiError, KubeHttp } from './kube-http.js';
import type { ObjectMeta } from './kube-types.js';

interface Obj {
  metadata: ObjectMeta;
  v?: number;
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('KubeHttp and Informer', () => {
  let dir = '';
  let server: https.Server;
  let kubeconfig = '';
  let lists = 0;
  let watches = 0;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rsk-informer-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        `${dir}/key.pem`,
        '-out',
        `${dir}/cert.pem`,
      ],
      { stdio: 'ignore' },
    );
    server = https.createServer(
      { key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) },
      (req, res) => {
        requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
        const url = new URL(req.url ?? '/', 'https://x');
        if (url.pathname === '/api/v1/namespaces/a/configmaps/missing') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              kind: 'Status',
              reason: 'NotFound',
              message: 'configmaps "missing" not found',
              code: 404,
            }),
          );
          return;
        }
        if (url.searchParams.get('watch') !== '1') {
          lists++;
          const items =
            lists === 1
              ? [
                  { metadata: { name: 'p1', namespace: 'a', resourceVersion: '1' } },
                  { metadata: { name: 'p2', namespace: 'a', resourceVersion: '2' } },
                ]
              : [{ metadata: { name: 'p1', namespace: 'a', resourceVersion: '5' }, v: 5 }];
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ metadata: { resourceVersion: lists === 1 ? '2' : '5' }, items }));
          return;
        }
        watches++;
        res.writeHead(200, { 'content-type': 'application/json' });
        if (watches === 1) {
          res.write(
            JSON.stringify({
              type: 'MODIFIED',
              object: { metadata: { name: 'p1', namespace: 'a', resourceVersion: '3' }, v: 3 },
            }) + '\n',
          );
          // Split one event over two writes: the client must reassemble lines.
          const ev =
            JSON.stringify({
              type: 'ADDED',
              object: { metadata: { name: 'p3', namespace: 'a', resourceVersion: '4' } },
            }) + '\n';
          res.write(ev.slice(0, 10));
          setTimeout(() => {
            res.write(ev.slice(10));
            res.end(
              JSON.stringify({
                type: 'ERROR',
                object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' },
              }) + '\n',
            );
          }, 20);
          return;
        }
        // Later watches stay open until the client goes away.
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'c',
            cluster: {
              server: `https://127.0.0.1:${port}`,
              'certificate-authority-data': readFileSync(`${dir}/cert.pem`).toString('base64'),
            },
          },
        ],
        users: [{ name: 'u', user: { token: 'secret-token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('maps a Status response to a KubeApiError with status and reason', async () => {
    const api = await KubeHttp.fromKubeconfig(kubeconfig, 'test');
    try {
      const err = await api.get('/api/v1/namespaces/a/configmaps/missing').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KubeApiError);
      expect(err).toMatchObject({ status: 404, reason: 'NotFound' });
      expect(requests.at(-1)).toBe('GET /api/v1/namespaces/a/configmaps/missing Bearer secret-token');
    } finally {
      api.close();
    }
  });

  it('lists, applies watch events, and re-lists after 410 Gone, reporting deletions it missed', async () => {
    const api = await KubeHttp.fromKubeconfig(kubeconfig, 'test');
    const seen: string[] = [];
    const inf = new Informer<Obj>(
      api,
      '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1',
      quiet,
      (kind, key, o) => seen.push(`${kind} ${key}@${o.metadata.resourceVersion}`),
    );
    inf.start();
    try {
      const deadline = Date.now() + 10_000;
      while (lists < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      while (!seen.includes('delete a/p3@4') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([
        'upsert a/p1@1',
        'upsert a/p2@2',
        'upsert a/p1@3',
        'upsert a/p3@4',
        'upsert a/p1@5',
        'delete a/p2@2',
        'delete a/p3@4',
      ]);
      expect(inf.hasSynced()).toBe(true);
      expect(inf.list().map((o) => o.v)).toEqual([5]);
      expect(
        requests.some(
          (r) =>
            r.includes('watch=1') &&
            r.includes('resourceVersion=2') &&
            r.includes('fieldSelector=spec.nodeName%3Dn1'),
        ),
      ).toBe(true);
    } finally {
      await inf.stop();
      api.close();
    }
  });
});
