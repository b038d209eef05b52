// Pure mapping from what the informers hold and what the members' admin APIs answered to the planner's
// ObservedCluster. No I/O here: observer.ts gathers the inputs, this file decides what they mean.
import type {
  V1Container,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Service,
  V1ServiceAccount,
  V1StatefulSet,
  V1StorageClass,
} from '@kubernetes/client-node';
import type { RaftCluster } from '../api/raftcluster.js';
import {
  CLIENT_PORT,
  clientAddress,
  clientServiceName,
  DATA_VOLUME,
  ordinalOf,
  peerServiceName,
  shardServiceName,
  statefulSetName,
} from '../children/names.js';
import { serviceAccountName } from '../children/serviceaccount.js';
import { FOUNDERS_ANNOTATION } from '../children/statefulset.js';
import { CHILDREN_HASH_ANNOTATION, MEMBER_HASH_ANNOTATION } from '../children/spec-hash.js';
import type {
  SlotTable,
  ObservedCluster,
  ObservedPod,
  ObservedPvc,
  ObservedShard,
  ObservedStatefulSet,
  ObservedStorageClass,
  RaftMember,
  RaftView,
  ShardSlots,
} from '../model/observed.js';
import type { AdminMember, AdminStatus } from '../model/admin-answers.js';
import { OPTIONS } from '../../../node/shared/config/options.js';

export const SHARD_LABEL = 'raftstore.dev/shard';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const NODE_CONTAINER = 'node';

/** The cluster's objects from the informer caches (its namespace, its instance label). */
export interface ClusterObjects {
  statefulSets: readonly V1StatefulSet[];
  pods: readonly V1Pod[];
  pvcs: readonly V1PersistentVolumeClaim[];
  services: readonly V1Service[];
  pdbs: readonly V1PodDisruptionBudget[];
  serviceAccounts: readonly V1ServiceAccount[];
  /** Every StorageClass (cluster-scoped); undefined when they are not watched. */
  storageClasses?: readonly V1StorageClass[];
}

export type MemberListAnswer =
  { ok: true; answeredBy: string; members: AdminMember[] } | { ok: false; reason: string };

export interface ShardAdminView {
  /** Pod name → its Status answer (absent: it did not answer). */
  statuses: ReadonlyMap<string, AdminStatus>;
  memberList: MemberListAnswer;
  /** The group's record of every slot; absent when not read (one shard) or when the read failed. */
  slotTable?: SlotTable;
}

/**
 * Shards to observe: those the spec asks for, and beyond them every shard whose StatefulSet still exists (a shrink
 * retires a group only after every slot moved off it, so until then it is observed, planned for and reported).
 */
export function observedShardCount(cluster: RaftCluster, objects: ClusterObjects): number {
  let count = cluster.spec.shards;
  for (const sts of objects.statefulSets) {
    if (!isOwnedBy(sts, cluster.metadata.uid)) continue;
    const shard = shardOf(sts);
    if (shard !== undefined && sts.metadata?.name === statefulSetName(cluster.metadata.name, shard)) {
      count = Math.max(count, shard + 1);
    }
  }
  return count;
}

/** A pod the observer asks for its Status, with the address to reach it. */
export interface AdminTarget {
  pod: string;
  shard: number;
  address: string;
}

/**
 * The incarnation id as the number the planner compares (it only tests equality). The first 48 bits of the 128-bit
 * random id: a safe integer, and a collision between two incarnations of one member is a 2^-48 chance. Hex that
 * does not parse maps to 0 (no identity), which the planner never confuses with a real one since ids differ too.
 */
export function incarnationNumber(hex: string): number {
  const head = hex.slice(0, 12);
  return /^[0-9a-fA-F]{1,12}$/.test(head) ? parseInt(head, 16) : 0;
}

export function isOwnedBy(
  obj: { metadata?: { ownerReferences?: { uid: string; controller?: boolean }[] } },
  uid: string,
): boolean {
  return (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid && r.controller === true);
}

function shardOf(obj: { metadata?: { labels?: Record<string, string> } }): number | undefined {
  const v = obj.metadata?.labels?.[SHARD_LABEL];
  return v !== undefined && /^(0|[1-9]\d{0,3})$/.test(v) ? Number(v) : undefined;
}

function nodeContainer(containers: readonly V1Container[] | undefined): V1Container | undefined {
  return containers?.find((c) => c.name === NODE_CONTAINER) ?? containers?.[0];
}

const PHASES = new Set<ObservedPod['phase']>(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

function isDeleting(obj: { metadata?: { deletionTimestamp?: unknown } }): boolean {
  const t = obj.metadata?.deletionTimestamp;
  return t !== undefined && t !== null;
}

function volumeSizeOf(sts: V1StatefulSet): string | undefined {
  return quantityText(sts.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.['storage']);
}

export function mapStatefulSet(sts: V1StatefulSet): ObservedStatefulSet & {
  founders: number | undefined;
  bootstrapShards: number | undefined;
} {
  const c = nodeContainer(sts.spec?.template.spec?.containers);
  const state = c?.env?.find((e) => e.name === OPTIONS.initialClusterState.env)?.value;
  const bootstrapRaw = c?.env?.find((e) => e.name === OPTIONS.bootstrapShards.env)?.value;
  const foundersRaw = sts.metadata?.annotations?.[FOUNDERS_ANNOTATION];
  const founders =
    foundersRaw !== undefined && /^[1-9]\d?$/.test(foundersRaw) ? Number(foundersRaw) : undefined;
  const childrenHash = sts.metadata?.annotations?.[CHILDREN_HASH_ANNOTATION];
  const volumeSize = volumeSizeOf(sts);
  return {
    replicas: sts.spec?.replicas ?? 1,
    image: c?.image ?? '',
    ...(childrenHash !== undefined ? { childrenHash } : {}),
    // Anything but an explicit "new" is "existing": the safe reading (a new pod joins rather than founding).
    initialClusterState: state === 'new' ? 'new' : 'existing',
    founders,
    bootstrapShards:
      bootstrapRaw !== undefined && /^[1-9]\d{0,3}$/.test(bootstrapRaw) ? Number(bootstrapRaw) : undefined,
    ...(volumeSize !== undefined ? { volumeSize } : {}),
  };
}

/**
 * The shard count the cluster was created with. The StatefulSets carry it (every one the same value), so it survives
 * a lost status; status.bootstrapShards is next; a cluster with neither is being created now, from spec.shards.
 */
export function bootstrapShardsOf(cluster: RaftCluster, objects: ClusterObjects): number {
  for (const sts of objects.statefulSets) {
    if (!isOwnedBy(sts, cluster.metadata.uid)) continue;
    const n = mapStatefulSet(sts).bootstrapShards;
    if (n !== undefined) return n;
  }
  return cluster.status?.bootstrapShards ?? cluster.spec.shards;
}

function podIdentity(pod: string, status: AdminStatus | undefined): ObservedPod['identity'] {
  // An answer from a different member (a stale IP reused by another pod) is no answer.
  if (status === undefined || status.member !== pod || status.id === '') return undefined;
  return {
    id: status.id,
    incarnation: incarnationNumber(status.incarnation),
    // Raft state on disk: a member of the configuration, or one that ever saw a term or a log entry.
    joined: status.isMember || status.term > 0 || status.lastIndex > 0,
    lastLogTerm: status.lastLogTerm,
    lastIndex: status.lastIndex,
    commit: status.commit,
    ...(status.version !== '' ? { version: status.version } : {}),
    dataFormat: status.dataFormat,
    maxDataFormat: status.maxDataFormat,
  };
}

/** Container waiting reasons that mean the member will not start without a change (a pull, a config, a crash). */
const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Why a pod cannot start, from what the kubelet and the scheduler reported; undefined when nothing says so. */
export function podProblem(pod: V1Pod): string | undefined {
  const detail = (text: string | undefined): string => (text === undefined || text === '' ? '' : `: ${text}`);
  for (const c of pod.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason !== undefined && STUCK_REASONS.has(waiting.reason)) {
      return `${waiting.reason}${detail(waiting.message)}`;
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return `Unschedulable${detail(scheduled.message)}`;
  }
  if (pod.status?.phase === 'Failed') return `Failed${detail(pod.status.reason ?? pod.status.message)}`;
  return undefined;
}

export function mapPod(
  cluster: string,
  shard: number,
  pod: V1Pod,
  status: AdminStatus | undefined,
): ObservedPod | undefined {
  const name = pod.metadata?.name ?? '';
  const ordinal = ordinalOf(cluster, shard, name);
  if (ordinal === undefined) return undefined;
  const rawPhase = pod.status?.phase;
  const phase =
    rawPhase !== undefined && PHASES.has(rawPhase as ObservedPod['phase'])
      ? (rawPhase as ObservedPod['phase'])
      : 'Unknown';
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const identity = podIdentity(name, status);
  const memberHash = pod.metadata?.annotations?.[MEMBER_HASH_ANNOTATION];
  const problem = podProblem(pod);
  const unschedulableSince = unschedulableSinceOf(pod);
  return {
    name,
    ordinal,
    phase,
    ready,
    image: nodeContainer(pod.spec?.containers)?.image ?? '',
    ...(memberHash !== undefined ? { memberHash } : {}),
    deleting: isDeleting(pod),
    ...(problem !== undefined ? { problem } : {}),
    ...(pod.spec?.nodeName !== undefined ? { nodeName: pod.spec.nodeName } : {}),
    ...(identity !== undefined ? { identity } : {}),
    ...(unschedulableSince !== undefined ? { unschedulableSince } : {}),
  };
}

function unschedulableSinceOf(pod: V1Pod): string | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'PodScheduled');
  if (c?.status !== 'False' || c.reason !== 'Unschedulable' || c.lastTransitionTime == null) return undefined;
  // A Date from the typed client, an RFC 3339 string from raw JSON.
  const t = new Date(c.lastTransitionTime);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** The data volume claim of a member pod, as its spec names it. */
export function dataClaimOf(pod: V1Pod): string | undefined {
  return pod.spec?.volumes?.find((v) => v.name === DATA_VOLUME)?.persistentVolumeClaim?.claimName;
}

export function mapPvc(
  cluster: string,
  shard: number,
  pvc: V1PersistentVolumeClaim,
): ObservedPvc | undefined {
  const name = pvc.metadata?.name ?? '';
  const prefix = `${DATA_VOLUME}-`;
  if (!name.startsWith(prefix)) return undefined;
  const ordinal = ordinalOf(cluster, shard, name.slice(prefix.length));
  if (ordinal === undefined) return undefined;
  const requested = quantityText(pvc.spec?.resources?.requests?.['storage']);
  const capacity = quantityText(pvc.status?.capacity?.['storage']);
  const storageClassName = pvc.spec?.storageClassName ?? undefined;
  // Conditions a resize leaves while it is under way or stuck (the kubelet or the resizer clears them when done).
  const resize = (pvc.status?.conditions ?? []).find((c) => c.status === 'True' && /Resiz/.test(c.type));
  return {
    name,
    ordinal,
    deleting: isDeleting(pvc),
    ...(requested !== undefined ? { requested } : {}),
    ...(capacity !== undefined ? { capacity } : {}),
    ...(storageClassName !== undefined ? { storageClassName } : {}),
    ...(resize !== undefined
      ? { resizeCondition: `${resize.type}${resize.message ? `: ${resize.message}` : ''}` }
      : {}),
  };
}

/** client-node types quantities as strings, but a number may come through from plain JSON. */
function quantityText(q: unknown): string | undefined {
  return typeof q === 'string' ? q : typeof q === 'number' ? String(q) : undefined;
}

const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';

/**
 * The StorageClass the cluster's volumes come from: the one its claims name, else storage.storageClassName, else
 * the cluster's default (the newest, as the API server picks when several are marked). Undefined when the classes
 * are not known or the named one does not exist.
 */
export function storageClassOf(
  cluster: RaftCluster,
  pvcs: readonly ObservedPvc[],
  classes: readonly V1StorageClass[] | undefined,
): ObservedStorageClass | undefined {
  if (classes === undefined) return undefined;
  const named =
    pvcs.find((p) => p.storageClassName !== undefined)?.storageClassName ??
    cluster.spec.storage.storageClassName;
  const created = (c: V1StorageClass): number => {
    // A Date from the typed client, an RFC 3339 string from raw JSON.
    const t = new Date(c.metadata?.creationTimestamp ?? 0).getTime();
    return Number.isNaN(t) ? 0 : t;
  };
  const defaults = classes
    .filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => created(b) - created(a));
  const sc = named !== undefined ? classes.find((c) => c.metadata?.name === named) : defaults[0];
  if (sc === undefined) return undefined;
  return { name: sc.metadata?.name ?? '', allowsExpansion: sc.allowVolumeExpansion === true };
}

/** The Raft view from the member list, with identities filled from the members' own Status answers. */
/** What the shard's leader says of its slots (the leader has applied at least what any quorum acknowledged). */
function leaderSlots(statuses: ReadonlyMap<string, AdminStatus>): ShardSlots | undefined {
  const leader = [...statuses.values()].find((s) => s.role === 'leader');
  return leader === undefined
    ? undefined
    : { owned: leader.slotsOwned, moving: leader.slotsMoving, epoch: leader.slotMapEpoch };
}

export function mapRaftView(answer: MemberListAnswer, statuses: ReadonlyMap<string, AdminStatus>): RaftView {
  if (!answer.ok) return { kind: 'unreachable', reason: answer.reason };
  const leader = answer.members.find((m) => m.role === 'leader');
  const members: RaftMember[] = answer.members.map((m) => {
    // Raft ids are per incarnation (a wiped member rejoins under a new id), so a pod answering with this id is this
    // incarnation: its own report is the authority for incarnation and version. The leader lists only its own.
    const own = statuses.get(m.name);
    const self = own !== undefined && own.id === m.id ? own : undefined;
    const incarnation = m.incarnation !== '' ? m.incarnation : (self?.incarnation ?? '');
    const version = m.version !== '' ? m.version : self?.version;
    return {
      name: m.name,
      id: m.id,
      role: m.role === 'learner' ? 'learner' : 'voter',
      healthy: m.healthy,
      matchIndex: m.matchIndex,
      incarnation: incarnationNumber(incarnation),
      ...(version !== undefined && version !== '' ? { version } : {}),
    };
  });
  const lastIndex = leader?.matchIndex ?? Math.max(0, ...answer.members.map((m) => m.matchIndex));
  return { kind: 'members', leaderId: leader?.id, lastIndex, members };
}

/**
 * The leader's "healthy" is its recent contact with an id. It is overruled only by certain evidence that the member
 * cannot be serving: its pod is gone, going, or not running, or the pod answers under a different Raft id (a wiped
 * member restarted at the same address). Without a leader the answering member's flags mean only "heard from at some
 * point", so then a member counts as healthy only if it answered its own Status. Never the other way round: a member
 * the leader calls unhealthy stays unhealthy.
 */
export function withPodEvidence(
  view: RaftView,
  pods: readonly ObservedPod[],
  statuses: ReadonlyMap<string, AdminStatus>,
): RaftView {
  if (view.kind !== 'members') return view;
  const byName = new Map(pods.map((p) => [p.name, p]));
  const members = view.members.map((m) => {
    if (!m.healthy) return m;
    const pod = byName.get(m.name);
    const status = statuses.get(m.name);
    const podDown = pod === undefined || pod.deleting || pod.phase !== 'Running';
    const otherId = status !== undefined && status.member === m.name && status.id !== m.id;
    const unconfirmed = view.leaderId === undefined && (status === undefined || status.id !== m.id);
    return podDown || otherId || unconfirmed ? { ...m, healthy: false } : m;
  });
  return { ...view, members };
}

/** The cluster's StatefulSet for a shard, if it exists and is ours. */
function shardStatefulSet(
  cluster: RaftCluster,
  objects: ClusterObjects,
  shard: number,
): V1StatefulSet | undefined {
  const name = statefulSetName(cluster.metadata.name, shard);
  return objects.statefulSets.find((s) => s.metadata?.name === name && isOwnedBy(s, cluster.metadata.uid));
}

export function observeCluster(
  cluster: RaftCluster,
  objects: ClusterObjects,
  admin: ReadonlyMap<number, ShardAdminView>,
  /** Pod name → the node its volume is pinned to, which no longer exists (observer.ts looks it up). */
  lostVolumes: ReadonlyMap<string, string> = new Map(),
): ObservedCluster {
  const { name, uid } = cluster.metadata;
  type Meta = { metadata?: { name?: string; ownerReferences?: { uid: string; controller?: boolean }[] } };
  const has = (list: readonly Meta[], n: string): boolean =>
    list.some((o) => o.metadata?.name === n && isOwnedBy(o, uid));
  const shards: ObservedShard[] = [];
  let pdbs = true;
  let servicesExist = true;
  const shardCount = observedShardCount(cluster, objects);
  for (let shard = 0; shard < shardCount; shard++) {
    const sts = shardStatefulSet(cluster, objects, shard);
    const view = admin.get(shard);
    const statuses = view?.statuses ?? new Map<string, AdminStatus>();
    const inShard = (o: { metadata?: { labels?: Record<string, string> } }): boolean => shardOf(o) === shard;
    const pods = objects.pods
      .filter(inShard)
      .map((p) => mapPod(name, shard, p, statuses.get(p.metadata?.name ?? '')))
      .filter((p): p is ObservedPod => p !== undefined)
      .map((p) => {
        const gone = lostVolumes.get(p.name);
        return gone === undefined ? p : { ...p, volumeNodeGone: gone };
      })
      .sort((a, b) => a.ordinal - b.ordinal);
    const pvcs = objects.pvcs
      .map((v) => mapPvc(name, shard, v))
      .filter((v): v is ObservedPvc => v !== undefined)
      .sort((a, b) => a.ordinal - b.ordinal);
    if (shard < cluster.spec.shards) pdbs &&= has(objects.pdbs, statefulSetName(name, shard));
    const mapped = sts === undefined ? undefined : mapStatefulSet(sts);
    shards.push({
      shard,
      statefulSet:
        mapped === undefined
          ? undefined
          : {
              replicas: mapped.replicas,
              image: mapped.image,
              initialClusterState: mapped.initialClusterState,
              ...(mapped.childrenHash !== undefined ? { childrenHash: mapped.childrenHash } : {}),
              ...(mapped.volumeSize !== undefined ? { volumeSize: mapped.volumeSize } : {}),
            },
      pods,
      pvcs,
      raft:
        view === undefined
          ? { kind: 'unreachable', reason: 'not probed' }
          : withPodEvidence(mapRaftView(view.memberList, statuses), pods, statuses),
      slots: leaderSlots(statuses),
      slotTable: view?.slotTable,
    });
    if (shard < cluster.spec.shards) servicesExist &&= has(objects.services, shardServiceName(name, shard));
  }
  const childrenExist =
    pdbs &&
    servicesExist &&
    has(objects.services, peerServiceName(name)) &&
    has(objects.services, clientServiceName(name)) &&
    has(objects.serviceAccounts, serviceAccountName(name));
  const storageClass = storageClassOf(
    cluster,
    shards.flatMap((s) => s.pvcs),
    objects.storageClasses,
  );
  return {
    cluster,
    childrenExist,
    bootstrapShards: bootstrapShardsOf(cluster, objects),
    shards,
    ...(storageClass !== undefined ? { storageClass } : {}),
  };
}

/**
 * The pods of a shard to ask for their Status: every pod with an IP (a deleting pod may still lead), by its IP and
 * client port. Without an IP, the peer DNS name (publishNotReadyAddresses) is tried instead.
 */
export function adminTargets(
  cluster: RaftCluster,
  objects: ClusterObjects,
  shard: number,
  useDns: boolean,
): AdminTarget[] {
  const { name, namespace } = cluster.metadata;
  const targets: AdminTarget[] = [];
  for (const pod of objects.pods) {
    const podName = pod.metadata?.name ?? '';
    if (shardOf(pod) !== shard || ordinalOf(name, shard, podName) === undefined) continue;
    if (pod.status?.phase !== 'Running') continue;
    const ip = pod.status.podIP;
    const address =
      useDns || ip === undefined || ip === ''
        ? clientAddress(name, namespace, podName)
        : hostPort(ip, CLIENT_PORT);
    targets.push({ pod: podName, shard, address });
  }
  return targets.sort((a, b) => a.pod.localeCompare(b.pod));
}

/** `ip:port`, with an IPv6 address in brackets. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Whom to ask for the member list, best first: the reported leader, then members, then anyone who answered. */
export function memberListCandidates(
  targets: readonly AdminTarget[],
  statuses: ReadonlyMap<string, AdminStatus>,
): AdminTarget[] {
  const score = (t: AdminTarget): number => {
    const s = statuses.get(t.pod);
    if (s === undefined) return 3;
    if (s.role === 'leader') return 0;
    if (s.isMember) return 1;
    return 2;
  };
  const leaderNames = new Set([...statuses.values()].map((s) => s.leader).filter((l) => l !== ''));
  // A deposed leader cut off in a minority still believes it leads: of two claims, the higher term wins.
  const term = (t: AdminTarget): number => statuses.get(t.pod)?.term ?? 0;
  return [...targets].sort(
    (a, b) =>
      score(a) - score(b) ||
      term(b) - term(a) ||
      Number(!leaderNames.has(a.pod)) - Number(!leaderNames.has(b.pod)) ||
      a.pod.localeCompare(b.pod),
  );
}
