// Runs a real container process in a real sandbox (needs root, iproute2, util-linux): network namespace, /32
// address, DNS files over /etc, volume bind mount, hostname, graceful stop. Uses its own bridge and subnet so it
// never touches a running cluster's rsk0.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ContainerProcess } from './container-process.js';
import { run } from './exec.js';
import { renderLauncher } from './launcher.js';
import {
  createSandbox,
  destroySandbox,
  listOwnedSandboxes,
  podMac,
  sandboxNames,
  type NetworkSettings,
} from './sandbox.js';

const BRIDGE = 'rsktest0';
const net: NetworkSettings = {
  bridge: BRIDGE,
  gateway: '10.250.0.1',
  dns: { nameserver: '10.250.0.1', clusterDomain: 'cluster.local' },
};
const uid = `test-${process.pid}-${Date.now()}`;
const isRoot = process.getuid?.() === 0;
const maybe = isRoot ? describe : describe.skip;

describe('podMac', () => {
  it('derives a locally administered MAC from the pod IP', () => {
    expect(podMac('10.244.2.15')).toBe('0a:58:0a:f4:02:0f');
    expect(() => podMac('10.244.2')).toThrow(/invalid pod IP/);
  });
});

maybe('sandbox (root)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rsk-sandbox-'));
    await run(['ip', 'link', 'add', BRIDGE, 'type', 'bridge'], { allowFailure: true });
    await run(['ip', 'addr', 'replace', '10.250.0.1/16', 'dev', BRIDGE]);
    await run(['ip', 'link', 'set', BRIDGE, 'up']);
  });
  afterAll(async () => {
    await destroySandbox(sandboxNames(uid));
    await run(['ip', 'link', 'del', BRIDGE], { allowFailure: true });
    await rm(dir, { recursive: true, force: true });
  });

  it('runs the container in its own netns with its volumes, DNS files and hostname, and stops it gracefully', async () => {
    const names = await createSandbox(net, {
      podUID: uid,
      podName: 'web-0',
      namespace: 'db',
      hostname: 'web-0',
      subdomain: 'web',
      podIP: '10.250.1.9',
    });
    expect((await listOwnedSandboxes()).netns).toContain(names.netns);
    const vol = path.join(dir, 'vol');
    await run(['mkdir', '-p', vol]);
    await writeFile(path.join(vol, 'hello'), 'from-volume');
    const mountPoint = path.join(dir, 'mnt', 'data');
    await run(['mkdir', '-p', mountPoint]);
    const out = path.join(dir, 'out.txt');
    const script = `cat ${mountPoint}/hello; echo; hostname; ip -4 -o addr show dev eth0 | awk '{print $4}'; grep search /etc/resolv.conf; grep web-0 /etc/hosts; trap 'echo term; exit 0' TERM; echo ready; while true; do sleep 0.1; done`;
    const launcher = path.join(dir, 'launch.sh');
    await writeFile(
      launcher,
      renderLauncher(
        [{ source: vol, target: mountPoint, readOnly: true }],
        ['/bin/sh', '-c', script],
        '/',
        'web-0',
      ),
    );
    const proc = ContainerProcess.start(
      {
        netns: names.netns,
        launcherPath: launcher,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        logPath: out,
      },
      Date.now(),
    );
    const deadline = Date.now() + 10_000;
    let log = '';
    while (!log.includes('ready') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      log = await readFile(out, 'utf8').catch(() => '');
    }
    expect(log).toContain('from-volume\nweb-0\n10.250.1.9/32\n');
    expect(log).toContain('search db.svc.cluster.local svc.cluster.local cluster.local');
    expect(log).toMatch(/10\.250\.1\.9\tweb-0\.web\.db\.svc\.cluster\.local\tweb-0/);
    // The bind mount exists only in the container's mount namespace.
    await expect(readFile(path.join(mountPoint, 'hello'), 'utf8')).rejects.toThrow();
    const exit = await proc.stop(5_000);
    expect(exit.exitCode).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('term');
    await destroySandbox(names);
    expect((await listOwnedSandboxes()).netns).not.toContain(names.netns);
  }, 30_000);
});
