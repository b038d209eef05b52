import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolvePort, runAction } from './probes.js';

describe('probe actions', () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.statusCode = req.url === '/ok' ? 200 : req.url === '/redirect' ? 302 : 503;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  const target = (): {
    podIP: string;
    ports: { name: string; containerPort: number }[];
    pid: number;
    env: Record<string, string>;
  } => ({
    podIP: '127.0.0.1',
    ports: [{ name: 'http', containerPort: port }],
    pid: process.pid,
    env: {},
  });

  it('httpGet succeeds on 2xx/3xx via a named port and fails on 5xx', async () => {
    expect((await runAction({ httpGet: { path: '/ok', port: 'http' } }, target(), 1000)).ok).toBe(true);
    expect((await runAction({ httpGet: { path: '/redirect', port } }, target(), 1000)).ok).toBe(true);
    const bad = await runAction({ httpGet: { path: '/bad', port } }, target(), 1000);
    expect(bad).toEqual({ ok: false, message: `HTTP probe http://127.0.0.1:${port}/bad returned 503` });
  });
  it('tcpSocket fails with a message when nothing listens', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const free = (srv.address() as AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const r = await runAction({ tcpSocket: { port: free } }, target(), 1000);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/ECONNREFUSED/);
    expect((await runAction({ tcpSocket: { port } }, target(), 1000)).ok).toBe(true);
  });
  it('reports an unknown named port and a handler-less action as failures', async () => {
    expect(() => resolvePort('nope', [])).toThrow(/named port "nope"/);
    expect((await runAction({ httpGet: { port: 'nope' } }, target(), 1000)).message).toMatch(/named port/);
    expect((await runAction({}, target(), 1000)).ok).toBe(false);
  });
});
