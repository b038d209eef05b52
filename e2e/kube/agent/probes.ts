// Executes probe and lifecycle-hook actions. httpGet and tcpSocket connect from the host to the pod IP (as the real
// kubelet does from the node); exec runs inside the container's network and mount namespaces via nsenter.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { spawn } from 'node:child_process';
import type { ContainerPort, LifecycleHandler } from './kube-types.js';

export interface ProbeTarget {
  podIP: string;
  ports: readonly ContainerPort[];
  /** Main process of the container, whose namespaces exec actions enter. */
  pid: number;
  env: Record<string, string>;
}

export interface ActionResult {
  ok: boolean;
  message: string;
}

export function resolvePort(port: number | string, ports: readonly ContainerPort[]): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = ports.find((x) => x.name === port);
  if (p === undefined) throw new Error(`named port ${JSON.stringify(port)} not found in container ports`);
  return p.containerPort;
}

async function httpGet(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<ActionResult> {
  const mod = url.protocol === 'https:' ? https : http;
  return await new Promise<ActionResult>((resolve) => {
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers: { 'user-agent': 'kube-probe/1.33', ...headers },
        timeout: timeoutMs,
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `HTTP probe ${url.href} returned ${code}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ ok: false, message: `Get "${url.href}": ${e.message}` }));
    req.end();
  });
}

async function tcpConnect(host: string, port: number, timeoutMs: number): Promise<ActionResult> {
  return await new Promise<ActionResult>((resolve) => {
    const sock = net.connect({ host, port, timeout: timeoutMs });
    sock.on('connect', () => {
      sock.destroy();
      resolve({ ok: true, message: `tcp ${host}:${port} connected` });
    });
    sock.on('timeout', () => {
      sock.destroy();
      resolve({ ok: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    });
    sock.on('error', (e) => resolve({ ok: false, message: `dial tcp ${host}:${port}: ${e.message}` }));
  });
}

export async function runAction(
  action: LifecycleHandler,
  t: ProbeTarget,
  timeoutMs: number,
): Promise<ActionResult> {
  try {
    if (action.httpGet) {
      const g = action.httpGet;
      const port = resolvePort(g.port, t.ports);
      const p = g.path ?? '/';
      const url = new URL(
        `${(g.scheme ?? 'HTTP').toLowerCase()}://${g.host ?? t.podIP}:${port}${p.startsWith('/') ? p : `/${p}`}`,
      );
      const headers: Record<string, string> = {};
      for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
      return await httpGet(url, headers, timeoutMs);
    }
    if (action.tcpSocket)
      return await tcpConnect(
        action.tcpSocket.host ?? t.podIP,
        resolvePort(action.tcpSocket.port, t.ports),
        timeoutMs,
      );
    if (action.exec) {
      const cmd = action.exec.command ?? [];
      if (cmd.length === 0) return { ok: false, message: 'exec action has no command' };
      const r = await runWithEnv(
        ['nsenter', '-t', String(t.pid), '-n', '-m', '--', ...cmd],
        t.env,
        timeoutMs,
      );
      return { ok: r.code === 0, message: `exec ${cmd.join(' ')}: exit ${r.code} ${r.output.slice(0, 200)}` };
    }
    if (action.sleep) {
      await new Promise((r) => setTimeout(r, Math.min(action.sleep?.seconds ?? 0, timeoutMs / 1000) * 1000));
      return { ok: true, message: 'slept' };
    }
    return { ok: false, message: 'action has no handler (httpGet, tcpSocket, exec or sleep)' };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

async function runWithEnv(
  argv: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number; output: string }> {
  // nsenter execs the command with our environment, so pass the container's (PATH included).
  return await new Promise((resolve) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd ?? 'false', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (d: Buffer): void => {
      if (output.length < 4096) output += d.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, output: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output: output.trim() });
    });
  });
}
