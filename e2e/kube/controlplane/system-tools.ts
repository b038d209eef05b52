// The host tools the local Kubernetes needs (the node agent's network namespaces, veths, iptables NAT, bind mounts
// in a pod's mount namespace, nsenter for exec probes; kube:up's openssl for the PKI and flock for its lock), with
// the Debian package of each. kube:up checks them before it starts anything: on a fresh Debian or Ubuntu machine
// it installs what is missing with apt-get (it runs as root anyway), elsewhere it names what to install.
import { spawnSync } from 'node:child_process';

export const SYSTEM_TOOLS: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  iptables: 'iptables',
  'iptables-save': 'iptables',
  'iptables-restore': 'iptables',
  nsenter: 'util-linux',
  unshare: 'util-linux',
  flock: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  ps: 'procps',
  openssl: 'openssl',
};

/** The Debian packages that provide the tools `isOnPath` does not find, sorted, each once. */
export function missingPackages(isOnPath: (command: string) => boolean): string[] {
  const missing = Object.entries(SYSTEM_TOOLS).filter(([command]) => !isOnPath(command));
  return [...new Set(missing.map(([, pkg]) => pkg))].sort();
}

export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

const APT_TIMEOUT_MS = 10 * 60_000;

/**
 * Installs the missing packages with apt-get when it exists (RAFTSTORE_KUBE_INSTALL_PACKAGES=0 forbids it);
 * throws naming the packages otherwise. Returns what it installed.
 */
export function ensureSystemTools(
  env: NodeJS.ProcessEnv = process.env,
  say: (line: string) => void,
): string[] {
  const packages = missingPackages(onPath);
  if (packages.length === 0) return [];
  const command = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (env['RAFTSTORE_KUBE_INSTALL_PACKAGES'] === '0' || !onPath('apt-get'))
    throw new Error(
      `missing system packages: ${packages.join(', ')} (they provide ${Object.keys(SYSTEM_TOOLS).join(', ')}); ` +
        `install them (Debian/Ubuntu: ${command}) and run again`,
    );
  say(`installing missing system packages: ${packages.join(' ')} (apt-get)`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env: aptEnv, timeout: APT_TIMEOUT_MS });
    if (r.error !== undefined || r.status !== 0)
      throw new Error(
        `apt-get ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); ` +
          `install ${packages.join(' ')} yourself and run again`,
      );
  }
  const still = missingPackages(onPath);
  if (still.length > 0) throw new Error(`after apt-get install, still missing: ${still.join(', ')}`);
  return packages;
}
