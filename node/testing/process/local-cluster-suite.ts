// A LocalCluster (real member processes on loopback) shared by the tests of one suite: started before them, stopped
// gracefully and its data removed after them.
import { rm } from 'node:fs/promises';
import { LocalCluster, type LocalClusterOptions } from '../../src/local-cluster/local-cluster.js';

/** Returns the suite's cluster (started in beforeAll). */
export function localClusterSuite(options: LocalClusterOptions): () => LocalCluster {
  let cluster: LocalCluster | undefined;
  beforeAll(async () => {
    cluster = await LocalCluster.start(options);
  }, 180_000);
  afterAll(async () => {
    if (cluster === undefined) return;
    await cluster.stop();
    await rm(cluster.baseDir, { recursive: true, force: true });
  }, 60_000);
  return () => {
    if (cluster === undefined) throw new Error('the suite’s cluster did not start');
    return cluster;
  };
}
