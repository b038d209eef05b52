// The node agent: a kubelet (and kube-proxy) replacement that runs the pods of three simulated nodes as processes in
// their own network and mount namespaces on this machine. Started by `npm run kube:up` as
//   node --import tsx e2e/kube/agent/main.ts --state-dir <dir>
// On SIGTERM/SIGINT it kills every pod process and removes their namespaces, veths, iptables chains and the mount
// points it created, then exits.
//
// Layout: node-registration (Node, Lease, status) · pod-worker (lifecycle) · sandbox (netns/veth/DNS files) ·
// volumes · probes · pod-status · service-proxy · volume-resizer · faults · images.
import { existsSync } from 'node:fs';
import type { Server } from 'node:https';
import { mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { kubernetesServiceEnv, parseArgs, type AgentConfig } from './config.js';
import { startFaultServer } from './faults.js';
import { startKubeletServer } from './kubelet-server.js';
import { loadImageTable } from './images.js';
import { IpAllocator } from './ip-alloc.js';
import { KubeHttp } from './kube-http.js';
import { NodeAgent } from './node-agent.js';
import { destroyAllOwned } from './sandbox.js';
import { removeAllRules, ServiceProxy } from './service-proxy.js';
import { VolumeResizer } from './volume-resizer.js';

const SHUTDOWN_POD_GRACE_MS = 3_000;
const SHUTDOWN_LIMIT_MS = 60_000;

const log = pino({ base: { component: 'node-agent' } });

async function hostNetworkSetup(cfg: AgentConfig): Promise<void> {
  if (!existsSync(`/sys/class/net/${cfg.bridge}`))
    throw new Error(`bridge ${cfg.bridge} does not exist: kube:up creates it before starting the agent`);
  // Pods route everything through the host (see sandbox.ts); it must forward and must not tell pods to go direct.
  await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
  await writeFile('/proc/sys/net/ipv4/conf/all/send_redirects', '0');
  await writeFile(`/proc/sys/net/ipv4/conf/${cfg.bridge}/send_redirects`, '0');
}

/** Leftovers of a crashed agent: namespaces (and the processes in them), veths, /etc/netns files, nat chains. */
async function cleanLeftovers(cfg: AgentConfig): Promise<void> {
  const n = await destroyAllOwned();
  if (existsSync('/etc/netns'))
    for (const d of await readdir('/etc/netns'))
      if (d.startsWith('rsk-')) await rm(path.join('/etc/netns', d), { recursive: true, force: true });
  await removeAllRules();
  await rm(path.join(cfg.agentDir, 'pods'), { recursive: true, force: true });
  if (n > 0) log.warn({ namespaces: n }, 'removed sandboxes left by a previous run');
}

async function removeMountPoints(dirs: Set<string>): Promise<void> {
  // Deepest first; only empty directories (bind mounts lived in the pods' private mount namespaces).
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    await rmdir(d).catch(() => undefined);
  }
}

async function kubeClient(file: string, fallback: string, who: string): Promise<KubeHttp> {
  if (existsSync(file)) return await KubeHttp.fromKubeconfig(file, who);
  log.warn(
    { file, fallback },
    'node kubeconfig missing; using the admin kubeconfig (the Node authorizer will not apply)',
  );
  return await KubeHttp.fromKubeconfig(fallback, who);
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2), process.env);
  if (process.getuid?.() !== 0)
    throw new Error('the node agent needs root (network namespaces, veths, iptables)');
  const admin = path.join(cfg.stateDir, 'admin.kubeconfig');
  if (!existsSync(admin))
    throw new Error(`${admin} not found: start the control plane first (npm run kube:up)`);
  const images = loadImageTable(cfg.imagesFile);
  await mkdir(cfg.agentDir, { recursive: true });
  await cleanLeftovers(cfg);
  await hostNetworkSetup(cfg);

  const adminApi = await KubeHttp.fromKubeconfig(admin, 'raftstore-agent/proxy');
  const proxy = new ServiceProxy(adminApi, log.child({ part: 'service-proxy' }));
  await proxy.start();
  const resizer = new VolumeResizer(adminApi, log.child({ part: 'volume-resizer' }));
  resizer.start();

  const createdMountPoints = new Set<string>();
  const net = {
    bridge: cfg.bridge,
    gateway: cfg.gateway,
    dns: { nameserver: cfg.podNameserver, clusterDomain: cfg.clusterDomain },
  };
  const agents: NodeAgent[] = [];
  const clients: KubeHttp[] = [adminApi];
  const kubeletServers: Server[] = [];
  for (const n of cfg.nodes) {
    const api = await kubeClient(
      path.join(cfg.stateDir, 'nodes', `${n.name}.kubeconfig`),
      admin,
      `raftstore-agent/${n.name}`,
    );
    clients.push(api);
    const nodeLog = log.child({ node: n.name });
    agents.push(
      new NodeAgent(
        n,
        api,
        {
          nodeName: n.name,
          hostIP: n.hostIP,
          podCIDR: n.podCIDR,
          allocatable: n.capacity,
          api,
          ips: new IpAllocator(n.podCIDR),
          net,
          images,
          repo: cfg.repo,
          agentDir: cfg.agentDir,
          backoff: cfg.backoff,
          serviceEnv: kubernetesServiceEnv(cfg.kubernetesServiceIP),
          log: nodeLog,
          nowMs: () => Date.now(),
          createdMountPoints,
        },
        nodeLog,
      ),
    );
  }

  for (const a of agents) {
    const kc = path.join(cfg.stateDir, 'nodes', `${a.node.name}.kubeconfig`);
    if (!existsSync(kc)) continue;
    try {
      const part = log.child({ node: a.node.name, part: 'kubelet-server' });
      kubeletServers.push(await startKubeletServer(kc, a.node.hostIP, a.node.kubeletPort, a, part));
    } catch (err) {
      // Optional (kubectl logs): the agent works without it.
      const msg = err instanceof Error ? err.message : String(err);
      log.warn({ node: a.node.name, err: msg }, 'kubelet log endpoint not started');
    }
  }

  let shuttingDown = false;
  const faults = await startFaultServer(
    {
      nodes: agents,
      serviceCidr: cfg.serviceCidr,
      keepServiceIPs: [cfg.kubernetesServiceIP, cfg.dnsServiceIP],
    },
    cfg.faultPort,
    log.child({ part: 'faults' }),
  );
  const addrFile = path.join(cfg.agentDir, 'faults.addr');
  await writeFile(addrFile, `127.0.0.1:${faults.port}\n`);

  const shutdown = async (signal: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: stopping pods and removing namespaces, veths and rules');
    const limit = setTimeout(() => {
      log.error({ limitMs: SHUTDOWN_LIMIT_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    faults.server.close();
    for (const s of kubeletServers) s.close();
    await Promise.all(
      agents.map((a) =>
        a
          .shutdown(SHUTDOWN_POD_GRACE_MS)
          .catch((e: unknown) => log.error({ node: a.node.name, err: String(e) }, 'node shutdown failed')),
      ),
    );
    await destroyAllOwned();
    await proxy.stop().catch((e: unknown) => log.error({ err: String(e) }, 'removing service rules failed'));
    await resizer.stop();
    await removeMountPoints(createdMountPoints);
    await rm(addrFile, { force: true });
    for (const c of clients) c.close();
    clearTimeout(limit);
    log.info('node agent stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  // Register nodes one by one so one bad node fails start-up with its name in the error.
  for (const a of agents) await a.start();
  log.info({ nodes: cfg.nodes.map((n) => n.name), faults: `127.0.0.1:${faults.port}` }, 'node agent running');
}

main().catch(async (err: unknown) => {
  log.fatal(
    { err: err instanceof Error ? err.message : String(err) },
    'node agent failed to start; removing what it set up',
  );
  // Best effort, bounded: leave no namespaces or rules behind a failed start either.
  const limit = setTimeout(() => process.exit(1), 20_000);
  await destroyAllOwned().catch(() => undefined);
  await removeAllRules().catch(() => undefined);
  clearTimeout(limit);
  process.exit(1);
});
