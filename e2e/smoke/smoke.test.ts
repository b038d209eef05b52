// End-to-end smoke suite against the real control plane and the node agent (npm run kube:up first, then `npm run e2e`
// and `npm run kube:down`). Tests run in order and share one namespace.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  apply,
  cmd,
  fault,
  HELM,
  httpGet,
  httpPut,
  isReady,
  kubectl,
  kubectlJson,
  waitFor,
  type PodJson,
} from './cluster.js';
import { rbacPod, simplePod, statefulSet } from './manifests.js';

const NS = `smoke-${Date.now().toString(36)}`;
const CHART = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata', 'chart');

interface NodeJson {
  metadata: { name: string };
  spec: { podCIDR?: string };
  status: { conditions?: { type: string; status: string }[] };
}

async function pods(selector: string): Promise<PodJson[]> {
  return (await kubectlJson<{ items: PodJson[] }>(['get', 'pods', '-n', NS, '-l', selector])).items;
}
async function pod(name: string): Promise<PodJson> {
  return await kubectlJson<PodJson>(['get', 'pod', '-n', NS, name]);
}
async function readyPods(selector: string, n: number, timeoutMs = 120_000): Promise<PodJson[]> {
  return await waitFor(`${n} Ready pods ${selector}`, timeoutMs, async () => {
    const ps = (await pods(selector)).filter(isReady);
    return ps.length === n ? ps.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)) : undefined;
  });
}
function nodeReady(n: NodeJson): string {
  return n.status.conditions?.find((c) => c.type === 'Ready')?.status ?? 'missing';
}
async function inPod(ip: string, p: string): Promise<{ status: number; body: string }> {
  const r = await httpGet(`http://${ip}:8080${p}`, 15_000);
  if (r.status !== 200) throw new Error(`GET ${p} in pod ${ip}: ${r.status} ${r.body}`);
  return JSON.parse(r.body) as { status: number; body: string };
}

beforeAll(async () => {
  await kubectl(['create', 'namespace', NS]);
});
afterAll(async () => {
  await cmd('kubectl', ['delete', 'namespace', NS, '--wait=true', '--timeout=90s'], { timeoutMs: 100_000 });
});

describe('node agent smoke', () => {
  it('registers three Ready nodes with their own pod CIDRs and node leases', async () => {
    const nodes = (await kubectlJson<{ items: NodeJson[] }>(['get', 'nodes'])).items;
    expect(nodes.map((n) => `${n.metadata.name} ${n.spec.podCIDR} ${nodeReady(n)}`).sort()).toEqual([
      'node-1 10.244.1.0/24 True',
      'node-2 10.244.2.0/24 True',
      'node-3 10.244.3.0/24 True',
    ]);
    const leases = await kubectl(['get', 'leases', '-n', 'kube-node-lease', '-o', 'name']);
    expect(
      leases
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual([
      'lease.coordination.k8s.io/node-1',
      'lease.coordination.k8s.io/node-2',
      'lease.coordination.k8s.io/node-3',
    ]);
  });

  let web: PodJson[] = [];
  it('runs a 3-replica StatefulSet with PVCs whose pods resolve each other by DNS and talk over TCP', async () => {
    await apply(NS, statefulSet('web', 3));
    // Generous: the scheduler once left web-2 waiting two minutes for its fresh PVC to bind (one of four runs).
    web = await readyPods('app=web', 3, 300_000);
    for (const p of web) {
      const cidr = `10.244.${p.spec.nodeName?.replace('node-', '')}.`;
      expect(p.status.podIP?.startsWith(cidr)).toBe(true);
      const who = JSON.parse((await httpGet(`http://${p.status.podIP}:8080/whoami`)).body) as {
        hostname: string;
        pod: string;
      };
      expect(who).toMatchObject({ hostname: p.metadata.name, pod: p.metadata.name });
    }
    // kubectl logs goes through the API server to the agent's kubelet log endpoint.
    expect(await kubectl(['logs', '-n', NS, 'web-0'])).toContain('e2e-httpd listening on :8080 as web-0');
    const [w0] = web;
    if (w0?.status.podIP === undefined) throw new Error('web-0 has no IP');
    // Pod-to-pod by the headless Service's per-pod DNS name (CoreDNS via the kube-dns ClusterIP).
    const fqdn = `web-1.web.${NS}.svc.cluster.local`;
    const r = await waitFor(`web-0 reaching ${fqdn}`, 30_000, async () => {
      const x = await inPod(
        w0.status.podIP ?? '',
        `/fetch?url=${encodeURIComponent(`http://${fqdn}:8080/whoami`)}`,
      );
      return x.status === 200 ? x : undefined;
    });
    expect(JSON.parse(r.body)).toMatchObject({ hostname: 'web-1' });
    // Through the ClusterIP Service by its short name (search domains + service proxy DNAT).
    const viaSvc = await waitFor('web-0 reaching the web-lb ClusterIP', 30_000, async () => {
      const x = await inPod(
        w0.status.podIP ?? '',
        `/fetch?url=${encodeURIComponent('http://web-lb/whoami')}`,
      );
      return x.status === 200 ? x : undefined;
    });
    expect(JSON.parse(viaSvc.body)).toMatchObject({
      hostname: expect.stringMatching(/^web-[0-2]$/) as unknown,
    });
  }, 420_000);

  it('recreates a deleted pod with its PVC data intact', async () => {
    const before = web.find((p) => p.metadata.name === 'web-1');
    if (before?.status.podIP === undefined) throw new Error('web-1 missing');
    const marker = `marker-${Math.random().toString(36).slice(2)}`;
    expect(await httpPut(`http://${before.status.podIP}:8080/data/marker`, marker)).toBe(200);
    await kubectl(['delete', 'pod', '-n', NS, 'web-1', '--wait=true', '--timeout=60s']);
    const after = await waitFor('web-1 recreated and Ready', 120_000, async () => {
      const p = await pod('web-1').catch(() => undefined);
      return p !== undefined && p.metadata.uid !== before.metadata.uid && isReady(p) ? p : undefined;
    });
    expect((await httpGet(`http://${after.status.podIP}:8080/data/marker`)).body).toBe(marker);
  }, 240_000);

  it('scales up and down; removed pods leave no processes behind', async () => {
    await kubectl(['scale', 'statefulset', '-n', NS, 'web', '--replicas=4']);
    await readyPods('app=web', 4);
    await kubectl(['scale', 'statefulset', '-n', NS, 'web', '--replicas=2']);
    await waitFor('web scaled to 2 pods', 120_000, async () =>
      (await pods('app=web')).length === 2 ? true : undefined,
    );
    const agentPods = (await fault('GET', '/pods')) as { key: string; pids: Record<string, number> }[];
    const webKeys = agentPods
      .filter((p) => p.key.startsWith(`${NS}/web-`))
      .map((p) => p.key)
      .sort();
    expect(webKeys).toEqual([`${NS}/web-0`, `${NS}/web-1`]);
  }, 300_000);

  it('gives pods env, configMap, secret, downward API and emptyDir data, and a service-account token RBAC applies to', async () => {
    await apply(NS, rbacPod(NS));
    const [p] = await readyPods('app=sa-client', 1);
    const ip = p?.status.podIP ?? '';
    const env = JSON.parse((await httpGet(`http://${ip}:8080/env`)).body) as Record<string, string>;
    expect(env).toMatchObject({
      LEVEL: 'debug',
      PASSWORD: 's3cret',
      MEM_LIMIT_MI: '64',
      POD_NAME: 'sa-client',
      POD_NAMESPACE: NS,
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
    });
    expect((await httpGet(`http://${ip}:8080/file?path=/etc/app/app.conf`)).body).toBe('color=blue\n');
    expect((await httpGet(`http://${ip}:8080/file?path=/etc/podinfo/labels`)).body).toBe('app="sa-client"');
    expect(
      (await httpGet(`http://${ip}:8080/file?path=/var/run/secrets/kubernetes.io/serviceaccount/namespace`))
        .body,
    ).toBe(NS);
    const allowed = await inPod(
      ip,
      `/kube?path=${encodeURIComponent(`/api/v1/namespaces/${NS}/configmaps/settings`)}`,
    );
    expect(allowed.status).toBe(200);
    const denied = await inPod(
      ip,
      `/kube?path=${encodeURIComponent(`/api/v1/namespaces/${NS}/secrets/creds`)}`,
    );
    expect(denied.status).toBe(403);
    expect(denied.body).toContain(`system:serviceaccount:${NS}:reader`);
  }, 180_000);

  it('reports ErrImagePull for an unknown image and CrashLoopBackOff for a crashing container', async () => {
    await apply(NS, [
      simplePod('no-image', 'raftstore/does-not-exist:1'),
      simplePod('crasher', 'raftstore/e2e-shell:1', ['/bin/sh', '-c', 'echo crashing; exit 3']),
    ]);
    const reason = (p: PodJson): string | undefined =>
      p.status.containerStatuses?.[0]?.state['waiting']?.reason;
    await waitFor('no-image waiting with ErrImagePull/ImagePullBackOff', 60_000, async () =>
      /ErrImagePull|ImagePullBackOff/.test(reason(await pod('no-image')) ?? '') ? true : undefined,
    );
    const crashed = await waitFor('crasher in CrashLoopBackOff after a restart', 90_000, async () => {
      const p = await pod('crasher');
      return reason(p) === 'CrashLoopBackOff' && (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1
        ? p
        : undefined;
    });
    expect(crashed.status.phase).toBe('Running');
  }, 180_000);

  it('restarts a container whose process is killed by the fault API', async () => {
    const before = (await pod('web-0')).status.containerStatuses?.[0]?.restartCount ?? 0;
    await fault('POST', `/pods/${NS}/web-0/kill`);
    await waitFor('web-0 restarted and Ready again', 90_000, async () => {
      const p = await pod('web-0');
      return (p.status.containerStatuses?.[0]?.restartCount ?? 0) > before && isReady(p) ? true : undefined;
    });
  }, 120_000);

  it('installs a Helm chart', async () => {
    const r = await cmd(HELM, ['install', 'smoke', CHART, '-n', NS, '--wait', '--timeout', '120s'], {
      timeoutMs: 150_000,
    });
    // Helm may warn on stderr (e.g. about kubeconfig permissions); only the exit code decides, stderr explains.
    expect(`exit ${r.code}: ${r.stderr}`).toMatch(/^exit 0: /);
    const [p] = await readyPods('app.kubernetes.io/instance=smoke', 1);
    expect((await httpGet(`http://${p?.status.podIP}:8080/file?path=/etc/greeting/message`)).body).toBe(
      'hello from helm',
    );
  }, 180_000);

  it('marks a node NotReady when it stops heartbeating, and Ready again when it resumes', async () => {
    await fault('POST', '/nodes/node-3/stop');
    try {
      await waitFor('node-3 not Ready', 150_000, async () =>
        nodeReady(await kubectlJson<NodeJson>(['get', 'node', 'node-3'])) !== 'True' ? true : undefined,
      );
    } finally {
      await fault('POST', '/nodes/node-3/start');
    }
    await waitFor('node-3 Ready again', 60_000, async () =>
      nodeReady(await kubectlJson<NodeJson>(['get', 'node', 'node-3'])) === 'True' ? true : undefined,
    );
  }, 240_000);
});
