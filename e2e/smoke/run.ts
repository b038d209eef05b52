// npm run e2e: the smoke suite (the local Kubernetes itself), then the operator suite (the user flows), against the cluster `npm run kube:up` started (then `npm run kube:down`, which also
// checks that nothing is left behind). Fails at once, saying so, when no cluster answers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KUBECONFIG } from './cluster.js';

const SUITE_TIMEOUT_MS = 30 * 60_000;

function main(): number {
  if (!existsSync(KUBECONFIG)) {
    process.stderr.write(`e2e: no cluster: ${KUBECONFIG} does not exist. Run \`npm run kube:up\` first.\n`);
    return 2;
  }
  const ready = spawnSync('kubectl', ['get', '--raw', '/readyz'], {
    env: { ...process.env, KUBECONFIG },
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (ready.status !== 0) {
    process.stderr.write(
      `e2e: the cluster of ${KUBECONFIG} does not answer (kubectl get --raw /readyz: ${(ready.stderr ?? ready.error?.message ?? '').trim()}). ` +
        'Run `npm run kube:up` first.\n',
    );
    return 2;
  }
  // The operator suite needs a real Kubernetes under it: a smoke failure makes its result meaningless.
  const smoke = suite('smoke', 'e2e:smoke');
  const operator = smoke ? suite('operator', 'e2e:operator') : false;
  return smoke && operator ? 0 : 1;
}

function suite(name: string, script: string): boolean {
  const started = performance.now();
  const r = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit', timeout: SUITE_TIMEOUT_MS });
  if (r.error !== undefined) process.stderr.write(`e2e: ${r.error.message}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const ok = r.status === 0;
  process.stdout.write(`\n== e2e: ${name} ${ok ? 'passed' : 'FAILED'} in ${seconds} s\n`);
  return ok;
}

process.exitCode = main();
