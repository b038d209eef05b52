// Test-side access to the e2e cluster: kubectl with the admin kubeconfig, helm from the binaries cache, the agent's
// fault API, and bounded polling. Every call has a timeout so a broken cluster fails a test instead of hanging it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, stateDir } from '../kube/controlplane/cluster.js';
import { kubernetesVersion } from '../kube/controlplane/versions.js';

export const STATE_DIR = stateDir();
/** The local cluster's admin kubeconfig, or another cluster's (kind, minikube) from RAFTSTORE_E2E_KUBECONFIG. */
export const KUBECONFIG = process.env['RAFTSTORE_E2E_KUBECONFIG'] ?? path.join(STATE_DIR, 'admin.kubeconfig');
/** helm from the kube:build cache, or the one RAFTSTORE_E2E_HELM names (`helm` on PATH for kind/minikube). */
export const HELM =
  process.env['RAFTSTORE_E2E_HELM'] ?? path.join(cacheRoot(), kubernetesVersion(), 'bin', 'helm');

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cmd(
  file: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<CmdResult> {
  return await new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { ...process.env, KUBECONFIG }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code =
          err === null
            ? 0
            : typeof (err as { code?: unknown }).code === 'number'
              ? (err as { code: number }).code
              : 1;
        resolve({
          code,
          stdout,
          stderr: stderr + (err !== null && code === 1 && stderr === '' ? err.message : ''),
        });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}

/** kubectl that must succeed; the error carries kubectl's stderr. */
export async function kubectl(args: readonly string[], input?: string): Promise<string> {
  const r = await cmd('kubectl', args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function kubectlJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export async function apply(namespace: string, manifest: object[]): Promise<void> {
  await kubectl(['apply', '-n', namespace, '-f', '-'], manifest.map((m) => JSON.stringify(m)).join('\n'));
}

/** Polls `check` every `pollMs` until it returns a value other than undefined; fails with the last reason after timeoutMs. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  pollMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
      last = 'not yet';
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last}`);
}

export async function httpGet(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: r.status, body: await r.text() };
}

export async function httpPut(url: string, body: string): Promise<number> {
  const r = await fetch(url, { method: 'PUT', body, signal: AbortSignal.timeout(5000) });
  await r.text();
  return r.status;
}

export function faultAddr(): string {
  return readFileSync(path.join(STATE_DIR, 'agent', 'faults.addr'), 'utf8').trim();
}

export async function fault(method: 'GET' | 'POST', p: string): Promise<unknown> {
  const r = await fetch(`http://${faultAddr()}${p}`, { method, signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  if (!r.ok) throw new Error(`fault API ${method} ${p}: ${r.status} ${text}`);
  return JSON.parse(text) as unknown;
}

export interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      state: Record<string, { reason?: string } | undefined>;
    }[];
  };
}

export function isReady(p: PodJson): boolean {
  return (
    p.metadata.deletionTimestamp === undefined &&
    p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
  );
}
