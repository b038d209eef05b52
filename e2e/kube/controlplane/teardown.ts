// Stops everything kube:up made, in dependency order, and sweeps what a crashed run may have left. Shared by
// kube:down and by kube:up (which starts with it). Idempotent: on a clean host it does nothing.
import { COMPONENTS, type Layout } from './cluster.js';
import { AGENT_ENTRY, agentDaemon, componentDaemons } from './daemons.js';
import { sweepAgentChains, sweepPodNamespaces, unmountUnder } from './leftovers.js';
import { removeBridge, unlinkHostpathProvisioner } from './network.js';
import { cmdline, pidsWithCmdline, pidsWithExeUnder, stopDaemon, stopPid } from './processes.js';

/** The agent must kill pods and delete their namespaces on SIGTERM; that can take a while with many pods. */
export const AGENT_GRACE_MS = 30_000;
export const COMPONENT_GRACE_MS = 10_000;

export interface TeardownReport {
  stopped: string[];
  /** Processes found without a (valid) pid file: `<pid> <command line>`. */
  strays: string[];
  namespaces: string[];
  iptablesCommands: number;
  unmounted: string[];
  bridgeRemoved: boolean;
  hostpathUnlinked: boolean;
}

export async function teardown(opts: {
  repo: string;
  bin: string;
  cacheRoot: string;
  layout: Layout;
}): Promise<TeardownReport> {
  const l = opts.layout;
  const report: TeardownReport = {
    stopped: [],
    strays: [],
    namespaces: [],
    iptablesCommands: 0,
    unmounted: [],
    bridgeRemoved: false,
    hostpathUnlinked: false,
  };
  // Agent first, while the apiserver is still up: it may want to report pods as terminated on its way out.
  const agent = agentDaemon(opts.repo, l) ?? {
    name: 'agent',
    pidFile: l.pidFile('agent'),
    match: AGENT_ENTRY,
  };
  if (await stopDaemon(agent, AGENT_GRACE_MS)) report.stopped.push('agent');
  // An agent whose pid file was lost (crash during start) is found by its command line and state dir.
  for (const pid of pidsWithCmdline(['--import tsx', AGENT_ENTRY, `--state-dir ${l.root}`])) {
    report.strays.push(`${pid} ${(cmdline(pid) ?? '').slice(0, 120)}`);
    await stopPid(pid, AGENT_ENTRY, AGENT_GRACE_MS);
  }
  report.namespaces = sweepPodNamespaces();

  const daemons = componentDaemons(opts.bin, l).reverse();
  for (const d of daemons) {
    if (await stopDaemon(d, COMPONENT_GRACE_MS)) report.stopped.push(d.name);
  }
  // Control-plane binaries of any version still running from the cache: pid files lost, or a different K8S_VERSION.
  for (const pid of pidsWithExeUnder(opts.cacheRoot)) {
    report.strays.push(`${pid} ${(cmdline(pid) ?? '').slice(0, 120)}`);
    await stopPid(pid, '', COMPONENT_GRACE_MS);
  }

  report.iptablesCommands = sweepAgentChains();
  report.unmounted = unmountUnder(l.root);
  report.bridgeRemoved = removeBridge();
  report.hostpathUnlinked = unlinkHostpathProvisioner(l.pv);
  if (COMPONENTS.some((c) => report.stopped.includes(c)) || report.strays.length > 0) {
    // Give the kernel a moment to release listening sockets before a following kube:up binds them again.
    await new Promise((r) => setTimeout(r, 200));
  }
  return report;
}
