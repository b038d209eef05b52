// The boundary between the API server's JSON and the typed RaftCluster the planner reads. The API server has
// already validated the object against the CRD schema and applied its defaults; this checks the fields the code
// relies on, so an object from an older CRD version (no defaults) fails with a message rather than a TypeError.
import { API_VERSION, KIND, type RaftCluster } from '../api/raftcluster.js';

export class InvalidObjectError extends Error {
  override name = 'InvalidObjectError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseRaftCluster(raw: unknown): RaftCluster {
  if (!isRecord(raw)) throw new InvalidObjectError('RaftCluster: not an object');
  const meta = raw['metadata'];
  if (!isRecord(meta) || typeof meta['name'] !== 'string' || typeof meta['namespace'] !== 'string') {
    throw new InvalidObjectError('RaftCluster: metadata.name and metadata.namespace are required');
  }
  const where = `RaftCluster ${meta['namespace']}/${meta['name']}`;
  const problems: string[] = [];
  if (raw['apiVersion'] !== API_VERSION || raw['kind'] !== KIND) {
    problems.push(
      `apiVersion/kind is ${String(raw['apiVersion'])}/${String(raw['kind'])}, expected ${API_VERSION}/${KIND}`,
    );
  }
  if (typeof meta['uid'] !== 'string' || meta['uid'] === '') problems.push('metadata.uid is missing');
  const generation = meta['generation'];
  if (typeof generation !== 'number') problems.push('metadata.generation is missing');
  const spec = raw['spec'];
  if (!isRecord(spec)) {
    problems.push('spec is missing');
  } else {
    const int = (k: string, min: number, max: number): void => {
      const v = spec[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        problems.push(`spec.${k} must be an integer in ${min}..${max}`);
    };
    int('replicas', 1, 9);
    int('shards', 1, 64);
    if (typeof spec['version'] !== 'string' || spec['version'] === '')
      problems.push('spec.version is required');
    if (spec['image'] !== undefined && typeof spec['image'] !== 'string')
      problems.push('spec.image must be a string');
    if (typeof spec['paused'] !== 'boolean')
      problems.push('spec.paused is missing (CRD defaults not applied?)');
    for (const k of ['storage', 'raft', 'pvcRetention', 'service', 'recovery']) {
      if (!isRecord(spec[k])) problems.push(`spec.${k} is missing (CRD defaults not applied?)`);
    }
  }
  if (raw['status'] !== undefined && !isRecord(raw['status'])) problems.push('status is not an object');
  if (problems.length > 0) throw new InvalidObjectError(`${where}: ${problems.join('; ')}`);
  // The checks above cover every field the operator reads without a fallback.
  return raw as unknown as RaftCluster;
}

/**
 * The spec as the operator acts on it: a cluster naming only a version runs `<repository>:<version>` from the
 * operator's configured node image repository. Filled in once here, so the planner, the child builders and the
 * status all agree on the image.
 */
export function withNodeImage(cluster: RaftCluster, repository: string): RaftCluster {
  if (cluster.spec.image !== undefined || repository === 'raftstore/node') return cluster;
  return { ...cluster, spec: { ...cluster.spec, image: `${repository}:${cluster.spec.version}` } };
}
