// `npm start`: the operator installed with helm and a healthy 3-member RaftCluster, then `kubectl get raftclusters`.
// Where: the cluster of the current kubeconfig when one answers (kind and minikube get the images built and
// loaded first), otherwise our own local Kubernetes (`kube:build` + `kube:up`: the real control plane, pods run as
// processes by our node agent, images mapped to this checkout's build). Every step is bounded and says what failed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** A step that failed, with what the user can do next. */
class StepError extends Error {
  constructor(
    message: string,
    readonly next: string,
  ) {
    super(message);
  }
}

function say(line: string): void {
  process.stdout.write(`start: ${line}\n`);
}

/**
 * Runs a command with inherited output; throws with its name and `next` (what to do about it) when it fails or
 * times out.
 */
function run(
  file: string,
  args: string[],
  timeoutMs: number,
  next: string,
  env: NodeJS.ProcessEnv = process.env,
): void {
  const r = spawnSync(file, args, { stdio: 'inherit', env, cwd: REPO, timeout: timeoutMs });
  const command = `${file} ${args.join(' ')}`;
  if (r.error !== undefined) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    throw new StepError(
      timedOut ? `${command}: no result within ${timeoutMs / 1000} s` : `${command}: ${r.error.message}`,
      next,
    );
  }
  if (r.status !== 0) throw new StepError(`${command}: exit ${r.status ?? r.signal}`, next);
}

function capture(file: string, args: string[], timeoutMs = 15_000): SpawnSyncReturns<string> {
  return spawnSync(file, args, { encoding: 'utf8', cwd: REPO, timeout: timeoutMs });
}

function onPath(command: string): boolean {
  return capture('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** The cluster of the current kubeconfig, if it answers; our local Kubernetes otherwise. */
function chooseTarget(): Target {
  const local = localKubePaths().kubeconfig;
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
    throw new StepError(
      `docker is not on PATH: it is needed to build the images for ${target.kind}`,
      'install Docker, or point kubectl at no cluster (KUBECONFIG=/dev/null npm start) to use the local Kubernetes',
    );
  for (const [image, dockerfile] of [
    [`raftstore/node:${VERSION}`, 'node/Dockerfile'],
    [`raftstore/operator:${VERSION}`, 'operator/Dockerfile'],
  ] as const) {
    say(`building ${image}`);
    run(
      'docker',
      ['build', '-f', dockerfile, '-t', image, '.'],
      30 * MINUTE,
      'the build output above names the failing Dockerfile step; is the Docker daemon running (docker info)?',
    );
    if (target.kind === 'kind')
      run(
        'kind',
        ['load', 'docker-image', image, '--name', target.name],
        10 * MINUTE,
        `check that the kind cluster ${target.name} is running: kind get clusters`,
      );
    else
      run(
        'minikube',
        ['image', 'load', image, '--profile', target.profile],
        10 * MINUTE,
        `check that minikube is running: minikube status --profile ${target.profile}`,
      );
  }
}

/** Where the local Kubernetes keeps its kubeconfig and the helm it built (`npm run kube:paths`). */
function localKubePaths(): { kubeconfig: string; helm: string } {
  const r = capture('npm', ['run', '--silent', 'kube:paths'], MINUTE);
  const lines = new Map(
    (r.stdout ?? '').split('\n').flatMap((line) => {
      const eq = line.indexOf('=');
      return eq > 0 ? [[line.slice(0, eq), line.slice(eq + 1)] as const] : [];
    }),
  );
  const kubeconfig = lines.get('KUBECONFIG');
  if (r.status !== 0 || kubeconfig === undefined)
    throw new StepError(
      `npm run kube:paths failed: ${(r.stderr ?? '').trim() || `exit ${r.status ?? r.signal}`}`,
      'run npm ci first (it installs tsx, which the local Kubernetes scripts run with)',
    );
  return { kubeconfig, helm: lines.get('HELM') ?? '' };
}

/** helm from PATH, else the one `kube:build` made. */
function helmBinary(): string {
  if (onPath('helm')) return 'helm';
  const built = localKubePaths().helm;
  if (built !== '') return built;
  throw new StepError(
    'helm is not on PATH',
    'install it (https://helm.sh/docs/intro/install/), or run npm run kube:build, which builds one',
  );
}

/** What the local Kubernetes needs of the machine, checked before a long build starts. */
function checkLocalPrerequisites(): void {
  const elsewhere = 'or point kubectl at a kind or minikube cluster and npm start again';
  if (process.getuid?.() !== 0)
    throw new StepError(
      'the local Kubernetes needs root (its node agent runs pods in network namespaces)',
      `run it as root (sudo -E npm start), ${elsewhere}`,
    );
  if (!onPath('go'))
    throw new StepError(
      'go is not on PATH: the local control plane is built from Go modules',
      `install Go 1.24 or newer (https://go.dev/doc/install), ${elsewhere}`,
    );
  if (!onPath('kubectl'))
    throw new StepError('kubectl is not on PATH', 'install it: https://kubernetes.io/docs/tasks/tools/');
}

function main(): void {
  const target = chooseTarget();
  const env = { ...process.env };
  if (target.kind === 'local') {
    checkLocalPrerequisites();
    say('building the control plane (cold: 10–25 minutes on 2 cores, once; warm: seconds)');
    run(
      'npm',
      ['run', '--silent', 'kube:build'],
      120 * MINUTE,
      'the lines above name the failing tool and its log (~/.cache/raftstore-kube/<version>/src/<tool>.*.log); ' +
        'npm start again resumes (finished downloads and binaries are kept)',
    );
    if (
      capture('kubectl', ['--kubeconfig', target.kubeconfig, 'version', '--request-timeout=5s']).status !== 0
    ) {
      run(
        'npm',
        ['run', '--silent', 'kube:up'],
        10 * MINUTE,
        'the component logs are in /var/tmp/raftstore-kube/logs/; npm run kube:down clears what was started, ' +
          'then npm start again',
      );
    }
    env['KUBECONFIG'] = target.kubeconfig;
    // The node agent maps raftstore/node and raftstore/operator images to this checkout's dist/.
    run('npm', ['run', '--silent', 'build'], 10 * MINUTE, 'fix the compile errors above (npm run typecheck)');
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
    `see why the operator is not ready: kubectl -n ${OPERATOR_NS} get pods; ` +
      `kubectl -n ${OPERATOR_NS} describe pods; kubectl -n ${OPERATOR_NS} logs deploy/raftstore-operator`,
    env,
  );
  say(`creating RaftCluster demo in namespace ${CLUSTER_NS}`);
  run(
    'kubectl',
    ['apply', '-n', CLUSTER_NS, '-f', CLUSTER_MANIFEST],
    MINUTE,
    `is the CRD installed? kubectl get crd raftclusters.raftstore.dev`,
    env,
  );
  run(
    'kubectl',
    ['wait', '-n', CLUSTER_NS, 'raftcluster/demo', '--for=condition=Available', '--timeout=10m'],
    11 * MINUTE,
    `status.operation says what the operator waits for: kubectl -n ${CLUSTER_NS} describe raftcluster demo; ` +
      `kubectl -n ${CLUSTER_NS} get pods; kubectl -n ${OPERATOR_NS} logs deploy/raftstore-operator`,
    env,
  );
  process.stdout.write(`\n$ kubectl get raftclusters -n ${CLUSTER_NS}\n`);
  run(
    'kubectl',
    ['get', 'raftclusters', '-n', CLUSTER_NS],
    MINUTE,
    'kubectl get crd raftclusters.raftstore.dev',
    env,
  );
  if (target.kind === 'local') {
    process.stdout.write(`\nUse it:  export KUBECONFIG=${target.kubeconfig}\nStop:    npm run kube:down\n`);
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`start: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
  if (err instanceof StepError) process.stderr.write(`start: next: ${err.next}\n`);
  process.exit(1);
}
