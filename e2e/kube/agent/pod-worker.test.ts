// The pod worker end to end on this machine (root): a real sandbox and process, with the API server replaced by a
// recorder. Covers start → Ready (probe) → status written once per change → crash + back-off → graceful deletion
// confirmed with a UID precondition. Uses its own bridge and subnet, never a running cluster's.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.js';
import { parseImageTable } from './images.js';
import { IpAllocator } from './ip-alloc.js';
import type { KubeHttp } from './kube-http.js';
import { KubeApiError } from './kube-http.js';
import type { Pod, PodStatus } from './kube-types.js';
import { PodWorker, type NodeContext } from './pod-worker.js';
import { listOwnedSandboxes } from './sandbox.js';

const BRIDGE = 'rsktest1';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const maybe = process.getuid?.() === 0 ? describe : describe.skip;

interface Call {
  method: string;
  path: string;
  body: unknown;
}

class RecordingApi {
  calls: Call[] = [];
  current: Pod;
  constructor(pod: Pod) {
    this.current = pod;
  }
  request<T>(method: string, p: string, body?: unknown): Promise<T> {
    this.calls.push({ method, path: p, body });
    if (method === 'PUT' && p.endsWith('/status')) {
      const rv = String(Number(this.current.metadata.resourceVersion) + 1);
      this.current = { ...(body as Pod), metadata: { ...(body as Pod).metadata, resourceVersion: rv } };
      return Promise.resolve(this.current as T);
    }
    if (method === 'DELETE') return Promise.resolve({} as T);
    return Promise.reject(new KubeApiError(method, p, 404, 'NotFound', 'not found'));
  }
  get<T>(p: string): Promise<T> {
    return this.request<T>('GET', p);
  }
  statuses(): PodStatus[] {
    return this.calls.filter((c) => c.method === 'PUT').map((c) => (c.body as Pod).status ?? {});
  }
}

async function until<T>(what: string, ms: number, f: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

maybe('pod worker (root)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rsk-worker-'));
    await run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge'], { allowFailure: true });
    await run(['ip', 'addr', 'replace', '10.251.0.1/16', 'dev', BRIDGE]);
    await run(['ip', 'link', 'set', BRIDGE, 'up']);
  });
  afterAll(async () => {
    await run(['ip', 'link', 'del', BRIDGE], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, becomes Ready, restarts after a crash with back-off, and confirms a graceful deletion', async () => {
    const uid = `worker-test-${process.pid}-${Date.now()}`;
    const pod: Pod = {
      metadata: { name: 'web-0', namespace: 'db', uid, resourceVersion: '1' },
      spec: {
        nodeName: 'node-1',
        terminationGracePeriodSeconds: 5,
        containers: [
          {
            name: 'httpd',
            image: 'raftstore/e2e-httpd:1',
            env: [{ name: 'PORT', value: '8080' }],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
            volumeMounts: [{ name: 'scratch', mountPath: path.join(dir, 'mnt', 'a', 'b') }],
          },
        ],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    };
    const api = new RecordingApi(pod);
    const logs: string[] = [];
    const log = {
      info: (_o: object, m: string) => logs.push(m),
      warn: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`),
      error: (o: object, m: string) => logs.push(`${m} ${JSON.stringify(o)}`),
    };
    const ctx: NodeContext = {
      nodeName: 'node-1',
      hostIP: '10.251.0.11',
      podCIDR: '10.251.1.0/24',
      allocatable: { cpu: '4', memory: '8Gi' },
      api: api as unknown as KubeHttp,
      ips: new IpAllocator('10.251.1.0/24'),
      net: {
        bridge: BRIDGE,
        gateway: '10.251.0.1',
        dns: { nameserver: '10.251.0.1', clusterDomain: 'cluster.local' },
      },
      images: parseImageTable({
        images: {
          'raftstore/e2e-httpd:1': {
            argv: ['node', '${REPO}/e2e/kube/agent/testdata/httpd.mjs'],
            cwd: '${REPO}',
          },
        },
      }),
      repo,
      agentDir: path.join(dir, 'agent'),
      backoff: { initialMs: 500, maxMs: 1000, resetAfterMs: 60_000 },
      serviceEnv: {},
      log,
      nowMs: () => Date.now(),
      createdMountPoints: new Set(),
      paused: () => false,
    };
    let finished = false;
    const w = new PodWorker(ctx, 'db/web-0', uid, pod, () => (finished = true));
    const feed = setInterval(() => w.update(api.current), 200);
    try {
      const ready = await until('Ready status', 20_000, () =>
        api.statuses().find((s) => s.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')),
      );
      expect(ready.phase).toBe('Running');
      expect(ready.podIP).toBe('10.251.1.2');
      expect(ready.hostIP).toBe('10.251.0.11');
      expect(ready.containerStatuses?.[0]).toMatchObject({
        name: 'httpd',
        ready: true,
        started: true,
        restartCount: 0,
        image: 'raftstore/e2e-httpd:1',
      });
      const writes = api.statuses().length;
      await new Promise((r) => setTimeout(r, 2000));
      // Nothing changed: no further status writes.
      expect(api.statuses().length).toBe(writes);

      expect(w.killProcesses()).toBe(1);
      const restarted = await until('restart after crash', 20_000, () =>
        api
          .statuses()
          .find((s) => s.containerStatuses?.[0]?.restartCount === 1 && s.containerStatuses[0].ready),
      );
      expect(restarted.containerStatuses?.[0]?.lastState.terminated).toMatchObject({
        exitCode: 137,
        signal: 9,
        reason: 'Error',
      });
      expect(
        api.statuses().some((s) => s.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff'),
      ).toBe(true);

      const netns = w.names?.netns;
      w.update({
        ...api.current,
        metadata: {
          ...api.current.metadata,
          deletionTimestamp: new Date().toISOString(),
          deletionGracePeriodSeconds: 5,
        },
      });
      await until('worker finished', 20_000, () => (finished ? true : undefined));
      const del = api.calls.find((c) => c.method === 'DELETE');
      expect(del?.path).toBe('/api/v1/namespaces/db/pods/web-0');
      expect(del?.body).toMatchObject({ gracePeriodSeconds: 0, preconditions: { uid } });
      const last = api.statuses().at(-1);
      // httpd exits 0 on SIGTERM: a graceful stop, not a kill.
      expect(last?.containerStatuses?.[0]?.state.terminated).toMatchObject({
        exitCode: 0,
        reason: 'Completed',
      });
      expect((await listOwnedSandboxes()).netns).not.toContain(netns);
      // Every mount-point level the worker created is remembered for removal at shutdown.
      expect([...ctx.createdMountPoints].sort()).toEqual([
        path.join(dir, 'mnt'),
        path.join(dir, 'mnt', 'a'),
        path.join(dir, 'mnt', 'a', 'b'),
      ]);
    } finally {
      clearInterval(feed);
      await w.shutdown(1000);
    }
  }, 60_000);
});
