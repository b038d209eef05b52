// Host networking the control plane owns: the pod bridge and the hostPath-provisioner link. Needs root.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { BRIDGE_ADDRESS, BRIDGE_NAME, BRIDGE_PREFIX_LENGTH, HOSTPATH_PROVISIONER_DIR } from './cluster.js';

const IP_TIMEOUT_MS = 10_000;

function ip(args: readonly string[]): string {
  try {
    return execFileSync('ip', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: IP_TIMEOUT_MS,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
    throw new Error(
      `ip ${args.join(' ')} failed: ${stderr || String(err)} (is iproute2 installed and are we root?)`,
    );
  }
}

export function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore', timeout: IP_TIMEOUT_MS });
    return true;
  } catch {
    return false;
  }
}

/** Creates the bridge with its gateway address, up. A leftover bridge of a crashed run is replaced. */
export function createBridge(): void {
  if (linkExists(BRIDGE_NAME)) removeBridge();
  ip(['link', 'add', 'name', BRIDGE_NAME, 'type', 'bridge']);
  ip(['addr', 'add', `${BRIDGE_ADDRESS}/${BRIDGE_PREFIX_LENGTH}`, 'dev', BRIDGE_NAME]);
  ip(['link', 'set', 'dev', BRIDGE_NAME, 'up']);
}

/** Deletes the bridge (which detaches any veth still on it). No-op when it is absent. */
export function removeBridge(): boolean {
  if (!linkExists(BRIDGE_NAME)) return false;
  ip(['link', 'del', 'dev', BRIDGE_NAME]);
  return true;
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Points /tmp/hostpath_pv (where kube-controller-manager's hostPath provisioner always writes) at `pvDir`.
 * Replaces our own stale symlink or an empty directory; refuses to touch a non-empty directory someone else made.
 */
export function linkHostpathProvisioner(pvDir: string): void {
  mkdirSync(pvDir, { recursive: true });
  const st = lstatOrUndefined(HOSTPATH_PROVISIONER_DIR);
  if (st?.isSymbolicLink()) unlinkSync(HOSTPATH_PROVISIONER_DIR);
  else if (st?.isDirectory()) {
    if (readdirSync(HOSTPATH_PROVISIONER_DIR).length > 0) {
      throw new Error(
        `${HOSTPATH_PROVISIONER_DIR} is a non-empty directory not made by kube:up; move it away first`,
      );
    }
    rmdirSync(HOSTPATH_PROVISIONER_DIR);
  } else if (st !== undefined) {
    throw new Error(`${HOSTPATH_PROVISIONER_DIR} exists and is neither a directory nor a symlink`);
  }
  symlinkSync(pvDir, HOSTPATH_PROVISIONER_DIR);
}

/** Removes the link when it points at `pvDir`; leaves anything else alone. */
export function unlinkHostpathProvisioner(pvDir: string): boolean {
  const st = lstatOrUndefined(HOSTPATH_PROVISIONER_DIR);
  if (!st?.isSymbolicLink() || readlinkSync(HOSTPATH_PROVISIONER_DIR) !== pvDir) return false;
  unlinkSync(HOSTPATH_PROVISIONER_DIR);
  return true;
}
