// Gathers one observation of a cluster: its objects from the informer caches (passed in) and, per shard, every
// running member's Status and the leader's MemberList, with a deadline on each call and a bound on calls in flight.
// When no member answers, the shard's Raft view is "unreachable" with the reasons; it is never guessed.
import type { RaftCluster } from '../api/raftcluster.js';
import type { AdminApi } from '../admin/admin-api.js';
import type { AdminStatus } from '../model/admin-answers.js';
import type { ObservedCluster, SlotTable } from '../model/observed.js';
import { errorMessage, mapBounded } from '../util/timeout.js';
import {
  adminTargets,
  dataClaimOf,
  memberListCandidates,
  podProblem,
  observeCluster,
  observedShardCount,
  type AdminTarget,
  type ClusterObjects,
  type MemberListAnswer,
  type ShardAdminView,
} from './map.js';

export interface ObserverOptions {
  /** Admin calls in flight at once for one cluster. */
  concurrency: number;
  /** Members asked for the member list before the shard counts as unreachable. */
  memberListAttempts: number;
  /** Reach members by their peer DNS name instead of the pod IP. */
  useDns: boolean;
}

export const DEFAULT_OBSERVER: ObserverOptions = { concurrency: 8, memberListAttempts: 3, useDns: false };

export interface Observation {
  observed: ObservedCluster;
  /** Per shard: admin addresses, best first (the leader's first), for the executor's calls. */
  adminAddresses: Map<number, string[]>;
  /** Raw Status answers per pod (for logs and events). */
  statuses: Map<string, AdminStatus>;
}

/** Where the volumes are: asked only about the volume of a pod the scheduler cannot place. */
export interface VolumeNodes {
  /** The node a PersistentVolume is pinned to (a local volume) when that node no longer exists; else undefined. */
  goneNodeOf(volumeName: string): Promise<string | undefined>;
}

/** Pod name → the gone node its volume is pinned to, for member pods the scheduler cannot place. */
async function lostVolumes(
  objects: ClusterObjects,
  volumes: VolumeNodes | undefined,
): Promise<Map<string, string>> {
  const lost = new Map<string, string>();
  if (volumes === undefined) return lost;
  for (const pod of objects.pods) {
    const name = pod.metadata?.name ?? '';
    if (podProblem(pod)?.startsWith('Unschedulable') !== true) continue;
    const claim = dataClaimOf(pod);
    const volume = objects.pvcs.find((c) => c.metadata?.name === claim)?.spec?.volumeName;
    if (volume === undefined || volume === '') continue;
    try {
      const node = await volumes.goneNodeOf(volume);
      if (node !== undefined) lost.set(name, node);
    } catch {
      // Unknown is not gone: a member's data is deleted only on a definite answer.
    }
  }
  return lost;
}

export async function observe(
  cluster: RaftCluster,
  objects: ClusterObjects,
  admin: AdminApi,
  options: ObserverOptions = DEFAULT_OBSERVER,
  volumes?: VolumeNodes,
): Promise<Observation> {
  const views = new Map<number, ShardAdminView>();
  const adminAddresses = new Map<number, string[]>();
  const allStatuses = new Map<string, AdminStatus>();
  const shardCount = observedShardCount(cluster, objects);
  for (let shard = 0; shard < shardCount; shard++) {
    const targets = adminTargets(cluster, objects, shard, options.useDns);
    const answers = await mapBounded(targets, options.concurrency, async (t) => {
      try {
        return { t, status: await admin.status(t.address, shard), error: undefined };
      } catch (err) {
        return { t, status: undefined, error: errorMessage(err) };
      }
    });
    const statuses = new Map<string, AdminStatus>();
    for (const a of answers) if (a.status !== undefined) statuses.set(a.t.pod, a.status);
    for (const [k, v] of statuses) allStatuses.set(k, v);
    const candidates = memberListCandidates(targets, statuses);
    adminAddresses.set(
      shard,
      candidates.map((c) => c.address),
    );
    const failures = answers.flatMap((a) => (a.error === undefined ? [] : [a.error]));
    const memberList = await askMemberList(admin, shard, candidates, options.memberListAttempts, failures);
    // Every slot's record, for resharding: only where there is more than one group (or soon will be).
    const slotTable =
      shardCount > 1 && memberList.ok
        ? await askSlotTable(admin, shard, candidates, options.memberListAttempts)
        : undefined;
    views.set(shard, { statuses, memberList, ...(slotTable !== undefined ? { slotTable } : {}) });
  }
  const lost = await lostVolumes(objects, volumes);
  return { observed: observeCluster(cluster, objects, views, lost), adminAddresses, statuses: allStatuses };
}

async function askMemberList(
  admin: AdminApi,
  shard: number,
  candidates: readonly AdminTarget[],
  attempts: number,
  statusFailures: string[],
): Promise<MemberListAnswer> {
  if (candidates.length === 0) return { ok: false, reason: 'no running member pod to ask' };
  const errors: string[] = [];
  for (const c of candidates.slice(0, Math.max(1, attempts))) {
    try {
      const members = await admin.memberList(c.address, shard);
      if (members.length === 0) {
        errors.push(`${c.pod}: empty member list`);
        continue;
      }
      return { ok: true, answeredBy: c.pod, members };
    } catch (err) {
      errors.push(errorMessage(err));
    }
  }
  const reasons = [...errors, ...statusFailures.filter((s) => !errors.includes(s))];
  return { ok: false, reason: truncate(reasons.join('; '), 512) };
}

/** The group's slot table from the first candidate that answers (the leader first); undefined if none does. */
async function askSlotTable(
  admin: AdminApi,
  shard: number,
  candidates: readonly AdminTarget[],
  attempts: number,
): Promise<SlotTable | undefined> {
  for (const c of candidates.slice(0, Math.max(1, attempts))) {
    try {
      return await admin.slotTable(c.address, shard);
    } catch {
      // the next candidate; with none left the planner waits for a table rather than guessing one
    }
  }
  return undefined;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
