// The daemons kube:up starts, as DaemonSpecs: where their pid file and log go and how to recognise them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMPONENTS, type Component, type Layout } from './cluster.js';
import { commandLines } from './components.js';
import type { DaemonSpec } from './processes.js';

export const AGENT_ENTRY = 'e2e/kube/agent/main.ts';

export function componentDaemon(component: Component, bin: string, l: Layout): DaemonSpec {
  const argv = commandLines(bin, l)[component].argv;
  return {
    name: component,
    argv,
    pidFile: l.pidFile(component),
    logFile: l.logFile(component),
    cwd: l.root,
    match: join(bin, component === 'coredns' ? 'coredns' : component),
  };
}

export function componentDaemons(bin: string, l: Layout): DaemonSpec[] {
  return COMPONENTS.map((c) => componentDaemon(c, bin, l));
}

/**
 * The node agent, run as one node process with tsx as an import hook (not `npx tsx`, which adds two wrapper
 * processes that would each receive and relay SIGTERM). Undefined while the agent does not exist yet.
 */
export function agentDaemon(repo: string, l: Layout): DaemonSpec | undefined {
  const entry = join(repo, AGENT_ENTRY);
  if (!existsSync(entry)) return undefined;
  return {
    name: 'agent',
    argv: [process.execPath, '--import', 'tsx', entry, '--state-dir', l.root],
    pidFile: l.pidFile('agent'),
    logFile: l.logFile('agent'),
    cwd: repo,
    match: AGENT_ENTRY,
  };
}
