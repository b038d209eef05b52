// What the operator e2e suite reads about a RaftCluster, its pods and its Raft membership — through kubectl (as a
// user would) and through the members' admin API from the host (pod IPs are reachable over the e2e bridge).
import type { RaftClusterStatus } from '../../operator/src/api/raftcluster.js';
import { ClusterAdmin } from '../../node/chaos/cluster-admin.js';
import { MemberRole } from '../../node/shared/api/generated/raftstore/v1/cluster.js';
import { kubectl, kubectlJson, type PodJson } from '../smoke/cluster.js';

export const CLIENT_PORT = 2379;

export interface RaftClusterJson {
  metadata: { name: string; namespace: string; uid: string; generation: number };
  spec: { replicas: number; version: string };
  status?: RaftClusterStatus;
}

/** A RaftCluster manifest, as a user writes one. */
export function clusterManifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'raftstore.dev/v1alpha1',
    kind: 'RaftCluster',
    metadata: { name },
    spec,
  });
}

/** `kubectl apply` of a RaftCluster. */
export async function applyCluster(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await kubectl(['apply', '-n', namespace, '-f', '-'], clusterManifest(name, spec));
}

export async function getCluster(namespace: string, name: string): Promise<RaftClusterJson> {
  return await kubectlJson<RaftClusterJson>(['get', 'raftcluster', name, '-n', namespace]);
}

export async function memberPods(namespace: string, cluster: string): Promise<PodJson[]> {
  const list = await kubectlJson<{ items: PodJson[] }>([
    'get',
    'pods',
    '-n',
    namespace,
    '-l',
    `app.kubernetes.io/name=raftstore,app.kubernetes.io/instance=${cluster}`,
  ]);
  return list.items;
}

/** Client endpoints (podIP:2379) of the member pods that have an IP and are not being deleted. */
export async function clientEndpoints(namespace: string, cluster: string): Promise<string[]> {
  return (await memberPods(namespace, cluster))
    .filter((p) => p.metadata.deletionTimestamp === undefined && p.status.podIP !== undefined)
    .map((p) => `${p.status.podIP}:${CLIENT_PORT}`);
}

/** clientEndpoints, re-read every second while a workload runs (pods come and go); `stop` ends the polling. */
export async function followEndpoints(
  namespace: string,
  cluster: string,
): Promise<{ current: () => string[]; stop: () => void }> {
  let endpoints = await clientEndpoints(namespace, cluster);
  const timer = setInterval(() => {
    clientEndpoints(namespace, cluster).then(
      (e) => {
        if (e.length > 0) endpoints = e;
      },
      () => undefined,
    );
  }, 1000);
  return { current: () => endpoints, stop: () => clearInterval(timer) };
}

/** The Raft configuration as the members themselves report it (not the operator's status). */
export interface RaftMembership {
  leader: string;
  voters: string[];
  learners: string[];
}

export async function raftMembership(endpoints: readonly string[]): Promise<RaftMembership | undefined> {
  for (const endpoint of endpoints) {
    const admin = new ClusterAdmin(endpoint, 3000);
    try {
      // MemberList is answered by the leader (a follower forwards it), so this is the committed configuration.
      const members = await admin.members();
      const names = (role: MemberRole[]) =>
        members
          .filter((m) => role.includes(m.role))
          .map((m) => m.name)
          .sort();
      const leader = names([MemberRole.MEMBER_ROLE_LEADER])[0];
      if (leader === undefined) continue;
      return {
        leader,
        voters: names([MemberRole.MEMBER_ROLE_LEADER, MemberRole.MEMBER_ROLE_FOLLOWER]),
        learners: names([MemberRole.MEMBER_ROLE_LEARNER]),
      };
    } catch {
      // Try the next member: this one may be down, which is what several tests cause on purpose.
    } finally {
      admin.close();
    }
  }
  return undefined;
}

export function condition(status: RaftClusterStatus | undefined, type: string): string | undefined {
  return status?.conditions?.find((c) => c.type === type)?.status;
}
