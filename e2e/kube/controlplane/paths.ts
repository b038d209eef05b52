// `npm run kube:paths`: where the local Kubernetes keeps what other tools need, one KEY=value line each, so that
// `npm start` (what users run) finds the kubeconfig and the built helm through a command, not by importing e2e code.
// HELM and ETCD (the etcd 3.6 the benchmark compares against) are empty until `npm run kube:build` has built them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, layout, stateDir } from './cluster.js';
import { kubernetesVersion } from './versions.js';

const built = (name: string): string => {
  const path = join(cacheRoot(), kubernetesVersion(), 'bin', name);
  return existsSync(path) ? path : '';
};
process.stdout.write(
  `KUBECONFIG=${layout(stateDir()).adminKubeconfig}\nHELM=${built('helm')}\nETCD=${built('etcd')}\n`,
);
