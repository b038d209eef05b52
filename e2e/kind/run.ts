// npm run e2e:kind — the users' path: a kind cluster (or the current minikube profile), the real node and operator
// images built from node/Dockerfile and operator/Dockerfile and loaded into it, then the operator's end-to-end
// suite (e2e/operator: helm install, RaftCluster create/scale/upgrade/delete, raftctl, helm test) against it.
//
// UNTESTED on our machines: they have no Docker engine, so this script has never run here (README says so). The
// smoke suite (e2e/smoke) is not run here: it tests our node agent (its three simulated nodes, its fault API, its
// image-to-command mapping), which a kind cluster does not have.
//
// Options: --minikube (use the current minikube profile instead of kind), --name NAME (kind cluster, default
// raftstore-e2e), --keep (keep a kind cluster this script created), --skip-images (images already loaded).
import fs from 'node:fs';
import path from 'node:path';
import { $, argv, tmpdir, which } from 'zx';
import { parseReleases } from '../kube/releases/build.js';

$.verbose = true;

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const KIND_NAME = typeof argv['name'] === 'string' ? argv['name'] : 'raftstore-e2e';
const USE_MINIKUBE = argv['minikube'] === true;

class UsageError extends Error {}

function need(tool: string, hint: string): string {
  const found = which.sync(tool, { nothrow: true });
  if (found === null) throw new UsageError(`${tool} is not on PATH. ${hint}`);
  return found;
}

/**
 * The image tags the suites use, from the same table the local node agent maps images with (e2e/kube/images.json):
 * raftstore/node:<v> for every version the suite deploys (the current build, and the earlier releases of
 * e2e/kube/releases/releases.json for the upgrade test) and raftstore/operator:<v>.
 */
function imageTags(): { node: string[]; operator: string[] } {
  const table = JSON.parse(fs.readFileSync(path.join(REPO, 'e2e/kube/images.json'), 'utf8')) as {
    images: Record<string, { env?: Record<string, string> }>;
  };
  const refs = Object.keys(table.images);
  return {
    node: refs.filter((r) => r.startsWith('raftstore/node:')),
    operator: refs.filter((r) => r.startsWith('raftstore/operator:')),
  };
}

/**
 * docker build of each image: an earlier release from its commit (git archive as the build context), the current
 * node build from this checkout; further node tags are the current build with RAFTSTORE_VERSION set, as locally.
 */
async function buildImages(): Promise<string[]> {
  const { node, operator } = imageTags();
  const releases = new Map(
    parseReleases(
      JSON.parse(fs.readFileSync(path.join(REPO, 'e2e/kube/releases/releases.json'), 'utf8')) as unknown,
    ).map((r) => [`raftstore/node:${r.version}`, r.commit]),
  );
  const current = node.filter((tag) => !releases.has(tag));
  const [firstNode, ...moreNodes] = current;
  const [firstOperator, ...moreOperators] = operator;
  if (firstNode === undefined || firstOperator === undefined)
    throw new Error('e2e/kube/images.json names no raftstore/node or raftstore/operator image');
  await $`docker build -f ${path.join(REPO, 'node/Dockerfile')} -t ${firstNode} ${REPO}`;
  for (const tag of moreNodes) {
    const version = tag.split(':')[1] ?? '';
    await $({ input: `FROM ${firstNode}\nENV RAFTSTORE_VERSION=${version}\n` })`docker build -t ${tag} -`;
  }
  for (const [tag, commit] of releases) {
    if (node.includes(tag))
      await $`git -C ${REPO} archive --format=tar ${commit} | docker build -f node/Dockerfile -t ${tag} -`;
  }
  await $`docker build -f ${path.join(REPO, 'operator/Dockerfile')} -t ${firstOperator} ${REPO}`;
  for (const tag of moreOperators) await $`docker tag ${firstOperator} ${tag}`;
  return [...node, ...operator];
}

/** A kubeconfig file for the cluster, and how to tear down what this script created. */
async function cluster(): Promise<{ kubeconfig: string; cleanup: () => Promise<void> }> {
  const kubeconfig = path.join(tmpdir('raftstore-e2e-kind'), 'kubeconfig');
  if (USE_MINIKUBE) {
    need('minikube', 'Install it from https://minikube.sigs.k8s.io/docs/start/ and run `minikube start`.');
    const status = await $`minikube status`.nothrow();
    if (status.exitCode !== 0)
      throw new UsageError('minikube is not running; start it with `minikube start`.');
    const profile = (await $`minikube profile`.quiet()).stdout.trim();
    fs.writeFileSync(
      kubeconfig,
      (await $`kubectl config view --minify --flatten --context ${profile}`.quiet()).stdout,
    );
    return { kubeconfig, cleanup: async () => {} };
  }
  need('kind', 'Install it from https://kind.sigs.k8s.io/docs/user/quick-start/#installation.');
  const existing = (await $`kind get clusters`.quiet()).stdout.split('\n').map((l) => l.trim());
  const created = !existing.includes(KIND_NAME);
  if (created) await $`kind create cluster --name ${KIND_NAME} --wait 3m`;
  fs.writeFileSync(kubeconfig, (await $`kind get kubeconfig --name ${KIND_NAME}`.quiet()).stdout);
  return {
    kubeconfig,
    cleanup: async () => {
      if (created && argv['keep'] !== true) await $`kind delete cluster --name ${KIND_NAME}`.nothrow();
    },
  };
}

async function loadImages(images: string[]): Promise<void> {
  for (const image of images) {
    if (USE_MINIKUBE) await $`minikube image load ${image}`;
    else await $`kind load docker-image ${image} --name ${KIND_NAME}`;
  }
}

/**
 * The suite reaches member pods at their pod IPs from this host (raftctl, the follower-read check). On Linux a route
 * per node's pod CIDR via the node's address (a container on Docker's bridge) makes them reachable; that needs
 * root. Returns the routes added, to remove them afterwards.
 */
async function podRoutes(kubeconfig: string): Promise<string[][]> {
  const nodes = JSON.parse(
    (await $({ env: { ...process.env, KUBECONFIG: kubeconfig } })`kubectl get nodes -o json`.quiet()).stdout,
  ) as {
    items: { spec: { podCIDR?: string }; status: { addresses: { type: string; address: string }[] } }[];
  };
  const routes = nodes.items.flatMap((n) => {
    const ip = n.status.addresses.find((a) => a.type === 'InternalIP')?.address;
    return n.spec.podCIDR !== undefined && ip !== undefined ? [[n.spec.podCIDR, ip]] : [];
  });
  if (process.platform !== 'linux')
    throw new UsageError(
      `the suite needs this host to reach pod IPs (${routes.map((r) => r[0]).join(', ')}); Docker Desktop ` +
        'does not route to them. Run it on Linux.',
    );
  if (process.getuid?.() !== 0)
    throw new UsageError(
      'the suite needs routes to the pod CIDRs; run as root, or add them yourself and rerun:\n' +
        routes.map(([cidr, via]) => `  sudo ip route replace ${cidr} via ${via}`).join('\n'),
    );
  for (const [cidr, via] of routes) await $`ip route replace ${cidr} via ${via}`;
  return routes;
}

async function main(): Promise<number> {
  need('docker', 'The kind/minikube path builds images with Docker.');
  const info = await $`docker info --format {{.ServerVersion}}`.quiet().nothrow();
  if (info.exitCode !== 0)
    throw new UsageError(
      'no Docker engine answers (`docker info` failed). Without Docker, use the local Kubernetes instead: ' +
        '`npm run kube:up && npm run e2e && npm run kube:down` (README, "Testing without Docker").',
    );
  need('kubectl', 'Install kubectl: https://kubernetes.io/docs/tasks/tools/.');
  const helm = need('helm', 'Install Helm 3: https://helm.sh/docs/intro/install/.');

  const c = await cluster();
  let routes: string[][] = [];
  try {
    if (argv['skip-images'] !== true) await loadImages(await buildImages());
    routes = await podRoutes(c.kubeconfig);
    const env = { ...process.env, RAFTSTORE_E2E_KUBECONFIG: c.kubeconfig, RAFTSTORE_E2E_HELM: helm };
    const r = await $({ env, cwd: REPO, nothrow: true })`npm run e2e:operator`;
    return r.exitCode ?? 1;
  } finally {
    for (const [cidr] of routes) await $`ip route del ${cidr ?? ''}`.nothrow();
    await c.cleanup();
  }
}

try {
  process.exitCode = await main();
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  process.stderr.write(`e2e:kind: ${err.message}\n`);
  process.exitCode = 2;
}
