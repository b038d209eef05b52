// npm run kube:up — a real Kubernetes control plane on this machine, for end-to-end tests.
// Order: clean leftovers → build if needed → PKI, kubeconfigs → bridge → etcd → apiserver → DNS/storage objects →
// controller-manager, scheduler, CoreDNS → node agent (if present) → 3 Ready Nodes. Every wait is bounded; on a
// failure everything started is stopped again (unless RAFTSTORE_KUBE_KEEP_ON_FAILURE=1) and the logs stay.
import { spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dnsObjects, FIELD_MANAGER, storageObjects } from './addons.js';
import {
  APISERVER_PORT,
  BRIDGE_ADDRESS,
  CLUSTER_DOMAIN,
  COMPONENTS,
  CONTROLLER_MANAGER_PORT,
  COREDNS_READY_PORT,
  ETCD_CLIENT_PORT,
  KUBERNETES_SERVICE_IP,
  NODES,
  SCHEDULER_PORT,
  cacheRoot,
  layout,
  stateDir,
  type Layout,
} from './cluster.js';
import { CLUSTER_NAME, corefile } from './components.js';
import { agentDaemon, componentDaemon } from './daemons.js';
import { httpProbe, waitFor, type Probe } from './health.js';
import { KubeApi, httpsRequest, type TlsCredentials } from './kubeapi.js';
import { renderKubeconfig } from './kubeconfig.js';
import { acquireStateLock, lockWaitSeconds } from './lock.js';
import { linkHostpathProvisioner, createBridge } from './network.js';
import { ensurePki } from './pki.js';
import { ensureSystemTools } from './system-tools.js';
import { isRunning, logTail, rssKib, startDaemon, type DaemonSpec } from './processes.js';
import { teardown } from './teardown.js';
import { kubernetesVersion } from './versions.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const BUILD_TIMEOUT_MS = 80 * 60_000;
const PROBE_TIMEOUT_MS = 2_000;
const CONTROL_PLANE_READY_MS = 60_000;
const NODES_READY_MS = 120_000;
const CERT_VALIDITY_DAYS = 30;

const started = performance.now();
const say = (msg: string): void => {
  process.stdout.write(`kube:up: [${((performance.now() - started) / 1000).toFixed(1)} s] ${msg}\n`);
};

/**
 * Runs build.sh (a no-op when warm). RAFTSTORE_KUBE_NO_BUILD=1 skips it and only checks that the daemons' binaries
 * exist: for iterating on kube:up while a long build of the test tools (helm, kubeconform) still holds the lock.
 */
function ensureBinaries(bin: string): void {
  if (process.env['RAFTSTORE_KUBE_NO_BUILD'] === '1') {
    const missing = COMPONENTS.filter((c) => !existsSync(join(bin, c)));
    if (missing.length > 0)
      throw new Error(`RAFTSTORE_KUBE_NO_BUILD=1 but ${bin} lacks ${missing.join(', ')}`);
    say('build skipped (RAFTSTORE_KUBE_NO_BUILD=1)');
    return;
  }
  build();
}

function build(): void {
  const r = spawnSync('bash', [join(here, 'build.sh')], { stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
  if (r.error) throw new Error(`build.sh: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`build.sh exited with ${r.status ?? r.signal}`);
}

/**
 * Removes the previous run's state so every run starts with an empty cluster. Logs go too (each run's logs stand
 * alone); the PKI stays and is reused by ensurePki while it is current.
 */
function resetState(l: Layout): void {
  for (const p of [l.nodesDir, l.runDir, l.logsDir, l.etcdData, l.pv, l.agent, l.corefile]) {
    rmSync(p, { recursive: true, force: true });
  }
  for (const name of ['admin', 'kube-controller-manager', 'kube-scheduler', 'coredns']) {
    rmSync(l.componentKubeconfig(name), { force: true });
  }
  for (const d of [l.root, l.nodesDir, l.runDir, l.logsDir, l.pv, l.agent]) mkdirSync(d, { recursive: true });
}

function writeKubeconfigs(l: Layout): void {
  const pem = (name: string): string => readFileSync(join(l.pki, name), 'utf8');
  const ca = pem('ca.crt');
  const write = (file: string, certName: string, user: string): void =>
    writeFileSync(
      file,
      renderKubeconfig({
        clusterName: CLUSTER_NAME,
        server: `https://127.0.0.1:${APISERVER_PORT}`,
        caPem: ca,
        user,
        clientCertPem: pem(`${certName}.crt`),
        clientKeyPem: pem(`${certName}.key`),
      }),
      { mode: 0o600 },
    );
  write(l.adminKubeconfig, 'admin', 'kubernetes-admin');
  write(
    l.componentKubeconfig('kube-controller-manager'),
    'kube-controller-manager',
    'system:kube-controller-manager',
  );
  write(l.componentKubeconfig('kube-scheduler'), 'kube-scheduler', 'system:kube-scheduler');
  write(l.componentKubeconfig('coredns'), 'coredns', 'system:coredns');
  for (const n of NODES) write(l.nodeKubeconfig(n.name), n.name, `system:node:${n.name}`);
}

/** Starts one daemon and waits for its probe; a daemon that exits fails the wait at once with its log tail. */
async function startAndWait(spec: DaemonSpec, probe: Probe, timeoutMs: number): Promise<number> {
  const pid = await startDaemon(spec);
  const ms = await waitFor(probe, {
    what: `${spec.name} (pid ${pid}, log ${spec.logFile})`,
    timeoutMs,
    alive: () => isRunning(pid, spec.match),
    detail: () => logTail(spec.logFile, 15),
  });
  say(`${spec.name} healthy after ${(ms / 1000).toFixed(1)} s (pid ${pid})`);
  return pid;
}

function httpsProbe(url: string, tls: TlsCredentials): Probe {
  return async () => {
    const r = await httpsRequest(url, tls, { timeoutMs: PROBE_TIMEOUT_MS });
    return r.status === 200 ? true : `HTTP ${r.status} ${r.body.slice(0, 300).trim()}`;
  };
}

/** Asks CoreDNS itself (not the host resolver) for the kubernetes Service: proves the API watch works end to end. */
function dnsProbe(): Probe {
  return async () => {
    const resolver = new Resolver({ timeout: PROBE_TIMEOUT_MS, tries: 1 });
    resolver.setServers([BRIDGE_ADDRESS]);
    const addrs = await resolver.resolve4(`kubernetes.default.svc.${CLUSTER_DOMAIN}`);
    return addrs.includes(KUBERNETES_SERVICE_IP) ? true : `answered ${addrs.join(',')}`;
  };
}

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

function nodesReadyProbe(api: KubeApi): Probe {
  return async () => {
    const r = await api.get('/api/v1/nodes');
    if (r.status !== 200) return `HTTP ${r.status}`;
    const list = JSON.parse(r.body) as NodeList;
    const ready = list.items
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata.name);
    const missing = NODES.map((n) => n.name).filter((n) => !ready.includes(n));
    return missing.length === 0 ? true : `not Ready yet: ${missing.join(', ')}`;
  };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('kube:up needs root (bridge, iptables, mounts, port 53)');
  ensureSystemTools(process.env, say);
  const version = kubernetesVersion();
  const cache = cacheRoot();
  const bin = join(cache, version, 'bin');
  const l = layout(stateDir());

  const leftovers = await teardown({ repo, bin, cacheRoot: cache, layout: l });
  const swept = [
    ...leftovers.stopped.map((d) => `daemon ${d}`),
    ...leftovers.strays.map((p) => `stray pid ${p}`),
    ...leftovers.namespaces.map((n) => `netns ${n}`),
    ...leftovers.unmounted.map((m) => `mount ${m}`),
    ...(leftovers.iptablesCommands > 0
      ? [`${leftovers.iptablesCommands} iptables commands (RSK-* nat chains)`]
      : []),
    ...(leftovers.bridgeRemoved ? ['bridge rsk0'] : []),
  ];
  if (swept.length > 0) say(`cleaned up a previous run:\n  ${swept.join('\n  ')}`);

  ensureBinaries(bin);
  const buildDone = performance.now();
  say(`binaries ready in ${bin}`);

  resetState(l);
  const pkiState = ensurePki({
    dir: l.pki,
    nodes: NODES,
    validityDays: CERT_VALIDITY_DAYS,
    minRemainingDays: 2,
  });
  writeKubeconfigs(l);
  writeFileSync(l.corefile, corefile(l.componentKubeconfig('coredns')));
  createBridge();
  linkHostpathProvisioner(l.pv);
  say(`pki (${pkiState}), kubeconfigs and bridge ready in ${l.root}`);

  const pki = (f: string): string => readFileSync(join(l.pki, f), 'utf8');
  const admin: TlsCredentials = { ca: pki('ca.crt'), cert: pki('admin.crt'), key: pki('admin.key') };
  const api = new KubeApi(`https://127.0.0.1:${APISERVER_PORT}`, admin, 10_000);
  const loopbackSelfSigned: TlsCredentials = { ca: admin.ca, insecure: true };
  const pids: number[] = [];

  pids.push(
    await startAndWait(
      componentDaemon('etcd', bin, l),
      httpProbe(`http://127.0.0.1:${ETCD_CLIENT_PORT}/health`, PROBE_TIMEOUT_MS),
      CONTROL_PLANE_READY_MS,
    ),
  );
  pids.push(
    await startAndWait(
      componentDaemon('kube-apiserver', bin, l),
      httpsProbe(`https://127.0.0.1:${APISERVER_PORT}/readyz`, admin),
      CONTROL_PLANE_READY_MS,
    ),
  );
  for (const obj of [...dnsObjects(), ...storageObjects()]) await api.apply(obj, FIELD_MANAGER);
  say('applied kube-dns Service/EndpointSlice, CoreDNS RBAC, default StorageClass "standard"');

  const rest = await Promise.all([
    startAndWait(
      componentDaemon('kube-controller-manager', bin, l),
      httpsProbe(`https://127.0.0.1:${CONTROLLER_MANAGER_PORT}/healthz`, loopbackSelfSigned),
      CONTROL_PLANE_READY_MS,
    ),
    startAndWait(
      componentDaemon('kube-scheduler', bin, l),
      httpsProbe(`https://127.0.0.1:${SCHEDULER_PORT}/healthz`, loopbackSelfSigned),
      CONTROL_PLANE_READY_MS,
    ),
    startAndWait(
      componentDaemon('coredns', bin, l),
      httpProbe(`http://127.0.0.1:${COREDNS_READY_PORT}/ready`, PROBE_TIMEOUT_MS),
      CONTROL_PLANE_READY_MS,
    ),
  ]);
  pids.push(...rest);
  await waitFor(dnsProbe(), { what: 'CoreDNS answering for the kubernetes Service', timeoutMs: 15_000 });
  say(
    `control plane healthy (apiserver /readyz, controller-manager and scheduler /healthz, CoreDNS on ${BRIDGE_ADDRESS}:53)`,
  );
  const controlPlaneRssMib = rssKib(pids) / 1024;

  const agent = agentDaemon(repo, l);
  if (agent === undefined) {
    say('node agent not found (e2e/kube/agent/main.ts): skipped; no Nodes will register');
  } else {
    const pid = await startDaemon(agent);
    await waitFor(nodesReadyProbe(api), {
      what: `node agent (pid ${pid}, log ${agent.logFile}): Nodes ${NODES.map((n) => n.name).join(', ')} Ready`,
      timeoutMs: NODES_READY_MS,
      intervalMs: 500,
      alive: () => isRunning(pid, agent.match),
      detail: () => logTail(agent.logFile, 20),
    });
    say(`node agent up (pid ${pid}); ${NODES.length} Nodes Ready`);
  }

  const startSeconds = (performance.now() - buildDone) / 1000;
  say(
    `started in ${startSeconds.toFixed(1)} s after the build step; control-plane RSS ${controlPlaneRssMib.toFixed(0)} MiB`,
  );
  process.stdout.write(
    `\nKubernetes ${version} is up. Use it with:\n\n  export KUBECONFIG=${l.adminKubeconfig}\n\n`,
  );
  process.stdout.write(`Logs: ${l.logsDir}/   Stop: npm run kube:down\n`);
}

// The lock comes first and outside main's clean-up-on-failure: a run that could not get it must not tear down the
// cluster of the run that holds it.
try {
  if (process.getuid?.() !== 0) throw new Error('kube:up needs root (bridge, iptables, mounts, port 53)');
  ensureSystemTools(process.env, say);
  const lockFile = layout(stateDir()).lock;
  acquireStateLock(lockFile, 'kube:up', lockWaitSeconds(), (holder) =>
    say(`${lockFile} is held (${holder}); waiting up to ${lockWaitSeconds()} s`),
  );
} catch (err) {
  process.stderr.write(`kube:up: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`kube:up: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env['RAFTSTORE_KUBE_KEEP_ON_FAILURE'] === '1') {
    process.stderr.write(
      'kube:up: leaving what started running (RAFTSTORE_KUBE_KEEP_ON_FAILURE=1); npm run kube:down stops it\n',
    );
  } else {
    const version = kubernetesVersion();
    await teardown({
      repo,
      bin: join(cacheRoot(), version, 'bin'),
      cacheRoot: cacheRoot(),
      layout: layout(stateDir()),
    }).catch((e: unknown) =>
      process.stderr.write(`kube:up: teardown after failure also failed: ${String(e)}\n`),
    );
    process.stderr.write(`kube:up: stopped everything again; logs are in ${layout(stateDir()).logsDir}\n`);
  }
  process.exitCode = 1;
}
