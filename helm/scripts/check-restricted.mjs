// Fails unless every pod the rendered manifests run meets the `restricted` Pod Security Standard and has a
// read-only root filesystem (kubeconform checks shapes, not policy).
// Usage: node check-restricted.mjs RENDERED.yaml...
import console from 'node:console';
import process from 'node:process';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

const problems = [];
let pods = 0;

function podSpecOf(doc) {
  if (doc.kind === 'Pod') return doc.spec;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(doc.kind))
    return doc.spec?.template?.spec;
  if (doc.kind === 'CronJob') return doc.spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

for (const path of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(readFileSync(path, 'utf8'))) {
    if (!doc) continue;
    const spec = podSpecOf(doc);
    if (!spec) continue;
    pods++;
    const where = `${path}: ${doc.kind} ${doc.metadata?.name}`;
    const pod = spec.securityContext ?? {};
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push(`${where}: uses host namespaces`);
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const sc = c.securityContext ?? {};
      const at = `${where} container ${c.name}`;
      if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot is not true`);
      if ((sc.runAsUser ?? pod.runAsUser) === 0) problems.push(`${at}: runs as uid 0`);
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${at}: allowPrivilegeEscalation is not false`);
      if (sc.privileged === true) problems.push(`${at}: privileged`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities.drop lacks ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${at}: adds capabilities`);
      const seccomp = (sc.seccompProfile ?? pod.seccompProfile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
        problems.push(`${at}: seccompProfile is ${seccomp}`);
    }
  }
}

if (pods === 0) problems.push('no pod specs found');
for (const p of problems) console.error(`error: ${p}`);
if (problems.length > 0) process.exit(1);
console.log(`restricted: ${pods} pod specs meet the restricted Pod Security Standard`);
