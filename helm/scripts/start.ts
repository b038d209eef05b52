// `npm start`: the operator installed with helm and a healthy 3-member RaftCluster, then `kubectl get raftclusters`.
// Where: the cluster of the current kubeconfig when one answers (kind and minikube get the images built and
// loaded first), otherwise our own local Kubernetes (`kube:build` + `kube:up`: the real control plane, pods run as
// processes by our node agent, images mapped to this checkout's build). Every step is bounded and says what failed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, stateDir } from '../../e2e/kube/controlplane/cluster.js';
import { kubernetesVersion } from '../../e2e/kube/controlplane/versions.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const OPERATOR_NS = 'raftstore-system';
const CLUSTER_NS = process.env['RAFTSTORE_NAMESPACE'] ?? 'default';
const CLUSTER_MANIFEST = path.join(REPO, 'manifests/raftcluster-3.yaml');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string })
  .version;
const MINUTE = 60_000;

type Target =
  | { kind: 'local'; kubeconfig: string }
  | { kind: 'kind'; name: string }
  | { kind: 'minikube'; profile: string }
  | { kind: 'other'; context: string };

class StepError extends Error {}

function say(line: string): void {
  process.stdout.write(`start: ${line}\n`);
}

/** Runs a command with inherited output; throws with its name when it fails or times out. */
function run(file: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(file, args, { stdio: 'inherit', env, cwd: REPO, timeout: timeoutMs });
  if (r.error !== undefined) throw new StepError(`${file} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new StepError(`${file} ${args.join(' ')}: exit ${r.status ?? r.signal}`);
}

function capture(file: string, args: string[], timeoutMs = 15_000): SpawnSyncReturns<string> {
  return spawnSync(file, args, { encoding: 'utf8', cwd: REPO, timeout: timeoutMs });
}

function onPath(command: string): boolean {
  return capture('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** The cluster of the current kubeconfig, if it answers; our local Kubernetes otherwise. */
function chooseTarget(): Target {
  const local = path.join(stateDir(), 'admin.kubeconfig');
  const context = capture('kubectl', ['config', 'current-context']);
  if (context.status === 0) {
    const name = context.stdout.trim();
    const reachable = capture('kubectl', ['version', '--request-timeout=5s'], 20_000).status === 0;
    if (reachable && process.env['KUBECONFIG'] === local) return { kind: 'local', kubeconfig: local };
    if (reachable && name.startsWith('kind-')) return { kind: 'kind', name: name.slice('kind-'.length) };
    if (reachable && name === 'minikube') return { kind: 'minikube', profile: name };
    if (reachable) return { kind: 'other', context: name };
    say(`the current context ${name} does not answer; using the local Kubernetes instead`);
  } else {
    say('no current kubeconfig context; using the local Kubernetes (no Docker needed)');
  }
  return { kind: 'local', kubeconfig: local };
}

/** Builds the node and operator images and loads them into a kind or minikube cluster (no registry needed). */
function loadImages(target: Extract<Target, { kind: 'kind' | 'minikube' }>): void {
  if (!onPath('docker'))
    throw new StepError('docker is not on PATH: it is needed to build the images for ' + target.kind);
  for (const [image, dockerfile] of [
    [`raftstore/node:${VERSION}`, 'node/Dockerfile'],
    [`raftstore/operator:${VERSION}`, 'operator/Dockerfile'],
  ] as const) {
    say(`building ${image}`);
    run('docker', ['build', '-f', dockerfile, '-t', image, '.'], 30 * MINUTE);
    if (target.kind === 'kind')
      run('kind', ['load', 'docker-image', image, '--name', target.name], 10 * MINUTE);
    else run('minikube', ['image', 'load', image, '--profile', target.profile], 10 * MINUTE);
  }
}

/** helm from PATH, else the one `kube:build` made. */
function helmBinary(): string {
  if (onPath('helm')) return 'helm';
  const built = path.join(cacheRoot(), kubernetesVersion(), 'bin', 'helm');
  if (existsSync(built)) return built;
  throw new StepError(
    'helm is not on PATH; install it (https://helm.sh/docs/intro/install/) or run npm run kube:build',
  );
}

function main(): void {
  const target = chooseTarget();
  const env = { ...process.env };
  if (target.kind === 'local') {
    say('building the control plane (cold: tens of minutes, once; warm: seconds)');
    run('npm', ['run', '--silent', 'kube:build'], 120 * MINUTE);
    if (
      capture('kubectl', ['--kubeconfig', target.kubeconfig, 'version', '--request-timeout=5s']).status !== 0
    ) {
      run('npm', ['run', '--silent', 'kube:up'], 10 * MINUTE);
    }
    env['KUBECONFIG'] = target.kubeconfig;
    // The node agent maps raftstore/node and raftstore/operator images to this checkout's dist/.
    run('npm', ['run', '--silent', 'build'], 10 * MINUTE);
  } else if (target.kind === 'kind' || target.kind === 'minikube') {
    loadImages(target);
  } else {
    say(
      `context ${target.context}: assuming raftstore/node:${VERSION} and raftstore/operator:${VERSION} can be pulled`,
    );
  }

  const helm = helmBinary();
  say(`installing the operator (helm release raftstore-operator in ${OPERATOR_NS})`);
  run(
    helm,
    [
      'upgrade',
      '--install',
      'raftstore-operator',
      'helm/raftstore-operator',
      '--namespace',
      OPERATOR_NS,
      '--create-namespace',
      '--wait',
      '--timeout',
      '5m',
    ],
    6 * MINUTE,
    env,
  );
  say(`creating RaftCluster demo in namespace ${CLUSTER_NS}`);
  run('kubectl', ['apply', '-n', CLUSTER_NS, '-f', CLUSTER_MANIFEST], MINUTE, env);
  run(
    'kubectl',
    ['wait', '-n', CLUSTER_NS, 'raftcluster/demo', '--for=condition=Available', '--timeout=10m'],
    11 * MINUTE,
    env,
  );
  process.stdout.write(`\n$ kubectl get raftclusters -n ${CLUSTER_NS}\n`);
  run('kubectl', ['get', 'raftclusters', '-n', CLUSTER_NS], MINUTE, env);
  if (target.kind === 'local') {
    process.stdout.write(`\nUse it:  export KUBECONFIG=${target.kubeconfig}\nStop:    npm run kube:down\n`);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`start: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
