// npm run kube:down — stops the node agent (which removes its pods), the control plane and CoreDNS, then removes
// the bridge, the agent's iptables chains, mounts under the state dir and the hostPath link. Keeps logs and state
// files for inspection; the next kube:up starts from scratch anyway. Fails if anything of the cluster is left.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, layout, stateDir } from './cluster.js';
import { acquireStateLock, lockWaitSeconds } from './lock.js';
import { pidsWithExeUnder } from './processes.js';
import { whatRemains } from './leftovers.js';
import { teardown } from './teardown.js';
import { kubernetesVersion } from './versions.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('kube:down needs root (bridge, iptables, mounts)');
  const cache = cacheRoot();
  const l = layout(stateDir());
  // Not while a kube:up of the same state dir is starting things (it would start daemons after this stopped them).
  acquireStateLock(l.lock, 'kube:down', lockWaitSeconds(), (holder) =>
    process.stdout.write(`kube:down: ${l.lock} is held (${holder}); waiting up to ${lockWaitSeconds()} s\n`),
  );
  const report = await teardown({
    repo,
    bin: join(cache, kubernetesVersion(), 'bin'),
    cacheRoot: cache,
    layout: l,
  });
  const left = [
    ...pidsWithExeUnder(cache).map((p) => `process ${p} running from ${cache}`),
    ...whatRemains(l.root),
  ];
  if (left.length > 0) throw new Error(`left behind after teardown:\n  ${left.join('\n  ')}`);
  const parts = [
    `stopped: ${report.stopped.join(', ') || 'nothing was running'}`,
    report.strays.length > 0 ? `stray processes killed: ${report.strays.join('; ')}` : '',
    report.namespaces.length > 0 ? `pod netns removed: ${report.namespaces.join(', ')}` : '',
    report.iptablesCommands > 0 ? `iptables commands run: ${report.iptablesCommands}` : '',
    report.unmounted.length > 0 ? `unmounted: ${report.unmounted.join(', ')}` : '',
    report.bridgeRemoved ? 'bridge rsk0 removed' : '',
    report.hostpathUnlinked ? '/tmp/hostpath_pv link removed' : '',
  ].filter((p) => p !== '');
  process.stdout.write(`kube:down: ${parts.join('; ')}. Logs kept in ${l.logsDir}\n`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`kube:down: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
