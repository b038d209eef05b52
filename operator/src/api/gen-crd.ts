// `npm run crds:gen` writes the CRD; `npm run crds:check` fails when the committed file differs from a fresh build.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { raftClusterCrdYaml } from './crd.js';

const target = fileURLToPath(new URL('../../../crds/raftstore.dev_raftclusters.yaml', import.meta.url));
const fresh = raftClusterCrdYaml();

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // A missing file is a difference like any other.
  }
  if (committed !== fresh) {
    process.stderr.write(`${target} is out of date: run \`npm run crds:gen\` and commit the result\n`);
    process.exit(1);
  }
  process.stdout.write(`${target} is up to date\n`);
} else {
  writeFileSync(target, fresh);
  process.stdout.write(`wrote ${target}\n`);
}
