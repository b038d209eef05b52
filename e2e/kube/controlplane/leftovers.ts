// Finding what a crashed run left on the host: mounts under the state dir, pod network namespaces, and the node
// agent's iptables chains (all named RSK-*). The parsers are pure; the sweep functions act on the host.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BRIDGE_ADDRESS } from './cluster.js';

const CMD_TIMEOUT_MS = 10_000;
export const AGENT_CHAIN_PREFIX = 'RSK-';

function run(file: string, args: readonly string[]): string {
  return execFileSync(file, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: CMD_TIMEOUT_MS,
  });
}

/** Decodes the octal escapes (\040 for space, ...) /proc/self/mountinfo uses in paths. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const root = dir.replace(/\/+$/, '');
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const mountPoint = unescapeMountPath(field);
    if (mountPoint === root || mountPoint.startsWith(`${root}/`)) out.push(mountPoint);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** The tables the agent makes chains in: nat (Service DNAT) and filter (rejects for Services without endpoints). */
export const AGENT_TABLES = ['nat', 'filter'] as const;

/**
 * From `iptables-save -t TABLE` output: the commands that remove the agent's chains in that table — first every
 * rule that jumps into one (including from built-in chains like PREROUTING), then the chains themselves.
 */
export function chainCleanupCommands(
  save: string,
  table: string = 'nat',
  prefix: string = AGENT_CHAIN_PREFIX,
): string[][] {
  const chains: string[] = [];
  const deletes: string[][] = [];
  for (const line of save.split('\n')) {
    const decl = /^:(\S+) /.exec(line);
    if (decl?.[1]?.startsWith(prefix)) chains.push(decl[1]);
    const rule = /^-A (\S+) (.*)$/.exec(line);
    if (rule && !rule[1]!.startsWith(prefix) && new RegExp(`-j ${prefix}\\S+`).test(rule[2]!)) {
      // iptables-save prints rules exactly as `-D` takes them; only quoting needs undoing.
      deletes.push(['-t', table, '-D', rule[1]!, ...splitRule(rule[2]!)]);
    }
  }
  return [
    ...deletes,
    ...chains.map((c) => ['-t', table, '-F', c]),
    ...chains.map((c) => ['-t', table, '-X', c]),
  ];
}

/** Splits an iptables-save rule body into argv, honouring double quotes (used by --comment "..."). */
export function splitRule(body: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] as string));
  }
  return out;
}

export interface SweepReport {
  unmounted: string[];
  namespaces: string[];
  iptablesCommands: number;
}

/** Unmounts everything at or under `dir` (lazily, so a busy mount cannot wedge teardown). */
export function unmountUnder(dir: string): string[] {
  const mounts = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), dir);
  for (const m of mounts) run('umount', ['-l', m]);
  const left = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), dir);
  if (left.length > 0) throw new Error(`still mounted under ${dir} after umount: ${left.join(', ')}`);
  return mounts;
}

/**
 * Pod network namespaces are recognised by the contract's default route via the bridge address; their processes are
 * killed and the namespaces deleted. Namespaces of anything else on the host are left alone.
 */
export function sweepPodNamespaces(): string[] {
  let names: string[];
  try {
    names = run('ip', ['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n !== '');
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const ns of names) {
    let routes: string;
    try {
      routes = run('ip', ['-n', ns, 'route', 'show', 'default']);
    } catch {
      continue;
    }
    if (!routes.includes(`via ${BRIDGE_ADDRESS}`)) continue;
    const pids = run('ip', ['netns', 'pids', ns])
      .split('\n')
      .map((p) => Number.parseInt(p, 10))
      .filter((p) => Number.isInteger(p) && p > 1);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    run('ip', ['netns', 'delete', ns]);
    swept.push(ns);
  }
  return swept;
}

/** Removes the agent's RSK-* chains and the jumps into them. Returns the number of iptables commands run. */
export function sweepAgentChains(): number {
  let count = 0;
  for (const table of AGENT_TABLES) {
    let save: string;
    try {
      save = run('iptables-save', ['-t', table]);
    } catch {
      return count; // no iptables on this host: then nobody made rules either
    }
    const cmds = chainCleanupCommands(save, table);
    for (const c of cmds) run('iptables', ['-w', '5', ...c]);
    count += cmds.length;
  }
  return count;
}

/**
 * What must not survive kube:down, each entry naming the leftover: pod network namespaces (`rsk-*`), links
 * (`rsk*`: the bridge, pod veths), the agent's nat and filter chains, mounts under the state dir, and processes of the agent
 * or of pods. Control-plane daemons are checked by their binaries' path apart. Host-wide apart from the agent: the
 * cluster's bridge, ports and names are fixed, so there is one per host (or per network namespace).
 */
export function whatRemains(stateRoot: string): string[] {
  const capture = (file: string, args: readonly string[]): string => {
    try {
      return run(file, args);
    } catch {
      return '';
    }
  };
  const found: string[] = [];
  for (const l of capture('ip', ['netns', 'list']).split('\n'))
    if (l.startsWith('rsk-')) found.push(`network namespace ${l.split(' ')[0]}`);
  for (const m of capture('ip', ['-o', 'link', 'show']).matchAll(/^\d+: (rsk[^:@]*)[@:]/gm))
    found.push(`link ${m[1]}`);
  for (const table of AGENT_TABLES)
    for (const l of capture('iptables-save', ['-t', table]).split('\n'))
      if (l.startsWith(`:${AGENT_CHAIN_PREFIX}`))
        found.push(`iptables ${table} chain ${l.slice(1).split(' ')[0]}`);
  for (const m of mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), stateRoot))
    found.push(`mount ${m}`);
  for (const l of capture('ps', ['-eo', 'pid,args']).split('\n')) {
    // The agent of this state dir (another state dir's agent is another cluster), and pod processes (the smoke
    // suite's httpd, or a launcher still inside `ip netns exec`), which cannot be told apart by cluster.
    const agent = l.includes('e2e/kube/agent/main.ts') && l.includes(`--state-dir ${stateRoot}`);
    if (agent || /e2e\/kube\/agent\/testdata\/httpd\.mjs|ip netns exec rsk-/.test(l))
      found.push(`process ${l.trim()}`);
  }
  return found;
}
