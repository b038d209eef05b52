// The fault-injection API for tests: a small HTTP server on 127.0.0.1 only (root-level power; never on the bridge).
//
//   GET  /healthz                                   200 "ok"
//   GET  /pods                                      JSON list: key, node, ip, netns, pids, partitioned
//   POST /pods/<ns>/<name>/partition[?peers=ip,ip]  drop the pod's traffic with all other pods and Services (or
//                                                   only with the given pod IPs); host, API server and DNS stay up
//   POST /pods/<ns>/<name>/heal                     undo partition
//   POST /pods/<ns>/<name>/kill[?container=c]       SIGKILL the container process(es); the kubelet logic restarts
//   POST /nodes/<node>/stop[?kill=true]             stop heartbeats, status updates and pod reconciling (with
//                                                   kill=true the node's pod processes are SIGKILLed, as in power loss)
//   POST /nodes/<node>/start                        resume
//
// Errors: 404 unknown pod/node, 400 bad request, 409 pod has no sandbox yet; body {"error": "..."}.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './informer.js';
import type { NodeAgent } from './node-agent.js';

export interface FaultTarget {
  nodes: readonly NodeAgent[];
  serviceCidr: string;
  /** Service IPs a partitioned pod still reaches (API server, DNS). */
  keepServiceIPs: readonly string[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const IP_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

export async function handleFault(t: FaultTarget, method: string, url: URL): Promise<unknown> {
  const parts = url.pathname.split('/').filter((x) => x !== '');
  if (method === 'GET' && url.pathname === '/healthz') return 'ok';
  if (method === 'GET' && url.pathname === '/pods') {
    return t.nodes.flatMap((n) =>
      n.pods().map((w) => ({
        key: w.key,
        uid: w.uid,
        node: n.node.name,
        ip: w.ip ?? null,
        netns: w.names?.netns ?? null,
        pids: w.pids(),
        partitioned: w.isPartitioned(),
      })),
    );
  }
  if (method !== 'POST') throw new HttpError(405, `${method} ${url.pathname}: use POST for faults`);
  if (parts[0] === 'nodes' && parts.length === 3) {
    const node = t.nodes.find((n) => n.node.name === parts[1]);
    if (node === undefined) throw new HttpError(404, `no node ${parts[1]}`);
    if (parts[2] === 'stop') {
      node.stop(url.searchParams.get('kill') === 'true');
      return { node: node.node.name, stopped: true };
    }
    if (parts[2] === 'start') {
      node.resume();
      return { node: node.node.name, stopped: false };
    }
    throw new HttpError(404, `unknown node action ${parts[2]}`);
  }
  if (parts[0] === 'pods' && parts.length === 4) {
    const key = `${parts[1]}/${parts[2]}`;
    const w = t.nodes.map((n) => n.find(key)).find((x) => x !== undefined);
    if (w === undefined) throw new HttpError(404, `no pod ${key} on this agent's nodes`);
    switch (parts[3]) {
      case 'partition': {
        const peers = (url.searchParams.get('peers') ?? '').split(',').filter((p) => p !== '');
        const bad = peers.find((p) => !IP_RE.test(p));
        if (bad !== undefined) throw new HttpError(400, `peers: ${bad} is not an IPv4 address`);
        if (w.names === undefined) throw new HttpError(409, `pod ${key} has no network namespace yet`);
        await w.partition(peers, t.keepServiceIPs, t.serviceCidr);
        return { pod: key, partitioned: true, peers };
      }
      case 'heal':
        await w.heal();
        return { pod: key, partitioned: false };
      case 'kill': {
        const c = url.searchParams.get('container') ?? undefined;
        return { pod: key, killed: w.killProcesses(c) };
      }
    }
    throw new HttpError(404, `unknown pod action ${parts[3]}`);
  }
  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

export async function startFaultServer(
  t: FaultTarget,
  port: number,
  log: Logger,
): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    handleFault(t, req.method ?? 'GET', url).then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        log.info({ method: req.method, path: url.pathname + url.search }, 'fault api');
      },
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
