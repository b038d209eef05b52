// The operator's API server calls (client-node 1.x): server-side apply of children under one field manager, deletes
// with uid preconditions, merge patches of /status, events.k8s.io Events, and the Lease. Every call has a deadline.
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  PolicyV1Api,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type EventsV1Event,
  type KubeConfig,
  type V1Lease,
  type V1PersistentVolume,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { GROUP, PLURAL, VERSION, type RaftCluster } from '../api/raftcluster.js';
import type { Child } from '../children/children.js';
import type { LeaseRecord, LeaseStore } from '../election/lease.js';
import type { DeleteOutcome, KubeWriter } from '../executor/executor.js';
import type { DeletableResource } from '../executor/requests.js';
import type { Json } from '../executor/merge-patch.js';
import type { EventSpec } from '../executor/requests.js';
import type { VolumeNodes } from '../observer/observer.js';
import { withTimeout } from '../util/timeout.js';

export const FIELD_MANAGER = 'raftstore-operator';
/** How long re-creating a StatefulSet waits for the old one to be gone (the garbage collector orphans its pods). */
const RECREATE_WAIT_MS = 60_000;
export const REPORTING_CONTROLLER = 'raftstore.dev/operator';

/** The HTTP status of a failed API call, if it was one. */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** A short, readable form of an API error (the Status message rather than the whole response). */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    let message = '';
    if (typeof body === 'string') {
      try {
        const parsed = JSON.parse(body) as { message?: unknown };
        message = typeof parsed.message === 'string' ? parsed.message : body;
      } catch {
        message = body;
      }
    } else if (
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { message?: unknown }).message === 'string'
    ) {
      message = (body as { message: string }).message;
    }
    return `HTTP ${err.code}${message !== '' ? `: ${message.slice(0, 500)}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export class KubeCallError extends Error {
  override name = 'KubeCallError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

async function call<T>(what: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await withTimeout(fn(), timeoutMs, what);
  } catch (err) {
    throw new KubeCallError(`${what}: ${describeApiError(err)}`, httpStatus(err));
  }
}

export class KubeApiWriter implements KubeWriter {
  private readonly objects: KubernetesObjectApi;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly events: EventsV1Api;
  private readonly apps: AppsV1Api;
  private readonly policy: PolicyV1Api;

  constructor(
    kc: KubeConfig,
    private readonly timeoutMs: number,
    /** This replica's name, for Events' reportingInstance. */
    private readonly instance: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.events = kc.makeApiClient(EventsV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.policy = kc.makeApiClient(PolicyV1Api);
  }

  async apply(object: Child): Promise<void> {
    const what = `apply ${object.kind} ${object.metadata?.namespace}/${object.metadata?.name}`;
    await call(what, this.timeoutMs, () =>
      this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
    );
  }

  async delete(
    resource: DeletableResource,
    namespace: string,
    name: string,
    uid: string | undefined,
  ): Promise<DeleteOutcome> {
    const body = uid !== undefined ? { preconditions: { uid } } : {};
    const what = `delete ${resource} ${namespace}/${name}`;
    const request = { name, namespace, body };
    const calls: Record<DeletableResource, () => Promise<unknown>> = {
      pods: () => this.core.deleteNamespacedPod(request),
      persistentvolumeclaims: () => this.core.deleteNamespacedPersistentVolumeClaim(request),
      services: () => this.core.deleteNamespacedService(request),
      // Foreground would wait on the pods; background lets the garbage collector remove them after the StatefulSet.
      statefulsets: () =>
        this.apps.deleteNamespacedStatefulSet({
          ...request,
          body: { ...body, propagationPolicy: 'Background' },
        }),
      poddisruptionbudgets: () => this.policy.deleteNamespacedPodDisruptionBudget(request),
    };
    try {
      await withTimeout<unknown>(calls[resource](), this.timeoutMs, what);
      return 'deleted';
    } catch (err) {
      const status = httpStatus(err);
      if (status === 404) return 'gone';
      // 409: the uid precondition failed, a new object took the name; the next observation decides about it.
      if (status === 409) return 'replaced';
      throw new KubeCallError(`${what}: ${describeApiError(err)}`, status);
    }
  }

  async resizeClaim(namespace: string, name: string, size: string, uid: string | undefined): Promise<void> {
    // A uid in a patch is a precondition: the API server refuses the patch if the claim was replaced.
    const body = {
      ...(uid !== undefined ? { metadata: { uid } } : {}),
      spec: { resources: { requests: { storage: size } } },
    };
    await call(`resize PersistentVolumeClaim ${namespace}/${name} to ${size}`, this.timeoutMs, () =>
      this.core.patchNamespacedPersistentVolumeClaim(
        { name, namespace, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async recreateStatefulSet(object: V1StatefulSet, uid: string | undefined): Promise<void> {
    const namespace = object.metadata?.namespace ?? '';
    const name = object.metadata?.name ?? '';
    const what = `re-create StatefulSet ${namespace}/${name}`;
    try {
      await withTimeout(
        this.apps.deleteNamespacedStatefulSet({
          name,
          namespace,
          // Orphan: the pods (and their volumes) stay; the garbage collector only drops their owner reference.
          // In the body: the API server reads the query's options only when the body is empty, and with a
          // precondition in the body a query propagationPolicy is ignored (apps/v1 then deletes the pods).
          body: { propagationPolicy: 'Orphan', ...(uid !== undefined ? { preconditions: { uid } } : {}) },
        }),
        this.timeoutMs,
        what,
      );
    } catch (err) {
      const status = httpStatus(err);
      if (status === 409) throw new KubeCallError(`${what}: another StatefulSet took the name`, status);
      if (status !== 404) throw new KubeCallError(`${what}: ${describeApiError(err)}`, status);
    }
    // The orphan finalizer holds the object until the garbage collector has released every pod: only then may the
    // new one be created (an apply before that would patch the one being deleted).
    const deadline = Date.now() + RECREATE_WAIT_MS;
    for (;;) {
      const current = await this.apps.readNamespacedStatefulSet({ name, namespace }).catch((err: unknown) => {
        if (httpStatus(err) === 404) return undefined;
        throw new KubeCallError(`${what}: ${describeApiError(err)}`, httpStatus(err));
      });
      if (current === undefined || (uid !== undefined && current.metadata?.uid !== uid)) break;
      if (Date.now() > deadline) {
        throw new KubeCallError(
          `${what}: the old StatefulSet is still being deleted after ${RECREATE_WAIT_MS / 1000}s (garbage collector?)`,
          undefined,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await this.apply(object);
  }

  async patchStatus(namespace: string, name: string, patch: Json): Promise<void> {
    await call(`patch status of RaftCluster ${namespace}/${name}`, this.timeoutMs, () =>
      this.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: { status: patch } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
  }

  async createEvent(cluster: RaftCluster, event: EventSpec): Promise<void> {
    const { name, namespace } = cluster.metadata;
    const body = buildEvent(cluster, event, this.instance, this.now(), randomBytes(4).toString('hex'));
    await call(`create Event for RaftCluster ${namespace}/${name}`, this.timeoutMs, () =>
      this.events.createNamespacedEvent({ namespace, body }),
    );
  }
}

/**
 * An events.k8s.io/v1 Event about the cluster. Named like client-go's recorder (`<object>.<hex time><random>`):
 * the API server validates generateName as a name, so `demo.` would be refused.
 */
export function buildEvent(
  cluster: RaftCluster,
  event: EventSpec,
  instance: string,
  now: Date,
  suffix: string,
): EventsV1Event {
  const { name, namespace, uid } = cluster.metadata;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `${name}.${now.getTime().toString(16)}${suffix}`.slice(0, 253), namespace },
    eventTime: new V1MicroTime(now.getTime()),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: instance.slice(0, 128),
    action: event.action.slice(0, 128),
    reason: event.reason.slice(0, 128),
    note: event.note.slice(0, 1024),
    type: event.type,
    regarding: { apiVersion: cluster.apiVersion, kind: cluster.kind, name, namespace, uid },
  };
}

function iso(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  // Date's own ISO form (V1MicroTime overrides toISOString with six fraction digits).
  return typeof d === 'string' ? d : Date.prototype.toISOString.call(d);
}

export function leaseToRecord(lease: V1Lease): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity ?? '',
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    acquireTime: iso(lease.spec?.acquireTime),
    renewTime: iso(lease.spec?.renewTime),
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata?.resourceVersion ?? '',
  };
}

export function recordToLease(name: string, namespace: string, r: LeaseRecord): V1Lease {
  const micro = (s: string | undefined): V1MicroTime | undefined =>
    s === undefined ? undefined : new V1MicroTime(Date.parse(s));
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace,
      ...(r.resourceVersion !== '' ? { resourceVersion: r.resourceVersion } : {}),
    },
    spec: {
      holderIdentity: r.holderIdentity,
      leaseDurationSeconds: r.leaseDurationSeconds,
      ...(r.acquireTime !== undefined ? { acquireTime: micro(r.acquireTime) } : {}),
      ...(r.renewTime !== undefined ? { renewTime: micro(r.renewTime) } : {}),
      leaseTransitions: r.leaseTransitions,
    },
  };
}

export class KubeLeaseStore implements LeaseStore {
  private readonly api: CoordinationV1Api;

  constructor(
    kc: KubeConfig,
    private readonly name: string,
    private readonly namespace: string,
    private readonly timeoutMs: number,
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  async get(): Promise<LeaseRecord | undefined> {
    const what = `get Lease ${this.namespace}/${this.name}`;
    try {
      return leaseToRecord(
        await withTimeout(
          this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }),
          this.timeoutMs,
          what,
        ),
      );
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw new KubeCallError(`${what}: ${describeApiError(err)}`, httpStatus(err));
    }
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    const body = recordToLease(this.name, this.namespace, record);
    return leaseToRecord(
      await call(`create Lease ${this.namespace}/${this.name}`, this.timeoutMs, () =>
        this.api.createNamespacedLease({ namespace: this.namespace, body }),
      ),
    );
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    const body = recordToLease(this.name, this.namespace, record);
    return leaseToRecord(
      await call(`update Lease ${this.namespace}/${this.name}`, this.timeoutMs, () =>
        this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }),
      ),
    );
  }
}

const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The nodes a PersistentVolume's required node affinity pins it to by hostname; empty when it is not pinned. */
export function pinnedNodes(pv: V1PersistentVolume): string[] {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  return terms.flatMap((t) =>
    (t.matchExpressions ?? [])
      .filter((e) => e.key === HOSTNAME_LABEL && e.operator === 'In')
      .flatMap((e) => e.values ?? []),
  );
}

/**
 * Answers "is this volume's node gone?" from the API server: the PersistentVolume's node affinity, then whether
 * each node it names still exists. Only a 404 for every one of them is "gone"; any other failure throws (unknown).
 */
export class KubeVolumeNodes implements VolumeNodes {
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    private readonly timeoutMs: number,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async goneNodeOf(volumeName: string): Promise<string | undefined> {
    const pv = await call(`read PersistentVolume ${volumeName}`, this.timeoutMs, () =>
      this.core.readPersistentVolume({ name: volumeName }),
    );
    const nodes = pinnedNodes(pv);
    if (nodes.length === 0) return undefined; // not a local volume: it follows the pod to any node
    for (const name of nodes) {
      try {
        await withTimeout(this.core.readNode({ name }), this.timeoutMs, `read Node ${name}`);
        return undefined; // still there (maybe NotReady, maybe coming back): not gone
      } catch (err) {
        if (httpStatus(err) !== 404)
          throw new KubeCallError(`read Node ${name}: ${describeApiError(err)}`, httpStatus(err));
      }
    }
    return nodes.join(',');
  }
}
