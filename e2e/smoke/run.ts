// npm run e2e: a fresh `kube:up`, the smoke suite, `kube:down`, then a check that nothing is left behind (agent pod
// processes, rsk-* network namespaces, rskv* veths, RSK-* iptables chains). Exit code: 0 only if all of it passed.
import { spawnSync } from 'node:child_process';

const STEP_TIMEOUT_MS = 30 * 60_000;

function step(title: string, file: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  process.stdout.write(`\n== ${title}: ${file} ${args.join(' ')}\n`);
  const r = spawnSync(file, args, { stdio: 'inherit', env, timeout: STEP_TIMEOUT_MS });
  if (r.error !== undefined) process.stderr.write(`${title}: ${r.error.message}\n`);
  return r.status ?? 1;
}

function capture(file: string, args: string[]): string {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 30_000 });
  return r.stdout ?? '';
}

/** What a clean teardown must not leave; each entry names the leftover. */
export function leftovers(): string[] {
  const found: string[] = [];
  for (const l of capture('ip', ['netns', 'list']).split('\n'))
    if (l.startsWith('rsk-')) found.push(`network namespace ${l.split(' ')[0]}`);
  for (const m of capture('ip', ['-o', 'link', 'show']).matchAll(/^\d+: (rsk[^:@]*)[@:]/gm))
    found.push(`link ${m[1]}`);
  for (const l of capture('iptables-save', ['-t', 'nat']).split('\n'))
    if (l.startsWith(':RSK-')) found.push(`iptables chain ${l.slice(1).split(' ')[0]}`);
  for (const l of capture('ps', ['-eo', 'pid,args']).split('\n')) {
    if (/e2e\/kube\/agent\/(main\.ts|testdata\/httpd\.mjs)|ip netns exec rsk-/.test(l))
      found.push(`process ${l.trim()}`);
  }
  return found;
}

function main(): void {
  if (step('kube:up', 'npm', ['run', '--silent', 'kube:up']) !== 0) {
    step('kube:down after failed kube:up', 'npm', ['run', '--silent', 'kube:down']);
    process.exit(1);
  }
  const smoke = step('e2e:smoke', 'npm', ['run', '--silent', 'e2e:smoke']);
  const down = step('kube:down', 'npm', ['run', '--silent', 'kube:down']);
  const left = leftovers();
  if (left.length > 0) process.stderr.write(`\nleft behind after kube:down:\n  ${left.join('\n  ')}\n`);
  process.stdout.write(
    `\n== e2e: smoke ${smoke === 0 ? 'passed' : 'FAILED'}, kube:down ${down === 0 ? 'ok' : 'FAILED'}, leftovers ${left.length}\n`,
  );
  process.exit(smoke === 0 && down === 0 && left.length === 0 ? 0 : 1);
}

main();
