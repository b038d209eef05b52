// `npm run kube:paths`: where the local Kubernetes keeps what other tools need, one KEY=value line each, so that
// `npm start` (what users run) finds the kubeconfig and the built helm through a command, not by importing e2e code.
// HELM is empty until `npm run kube:build` has built it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, layout, stateDir } from './cluster.js';
import { kubernetesVersion } from './versions.js';

const helm = join(cacheRoot(), kubernetesVersion(), 'bin', 'helm');
process.stdout.write(
  `KUBECONFIG=${layout(stateDir()).adminKubeconfig}\nHELM=${existsSync(helm) ? helm : ''}\n`,
);
