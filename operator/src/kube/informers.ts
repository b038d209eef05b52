// Informers (client-node ListWatch) on RaftClusters and the children the operator owns (StatefulSets, Pods, PVCs,
// Services, PodDisruptionBudgets, ServiceAccounts; label-selected by app.kubernetes.io/name=raftstore), in the watched
// namespaces or cluster-wide, and the StorageClasses (cluster-scoped: may the volumes grow?). client-node stops an informer for good on any error but 410 Gone; this restarts it
// with a backoff (1 s doubling to 60 s), keeping its cache, which stays the best knowledge until the relist.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  PolicyV1Api,
  StorageV1Api,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1PersistentVolumeClaim,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1Service,
  type V1ServiceAccount,
  type V1StatefulSet,
  type V1StorageClass,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION } from '../api/raftcluster.js';
import { INSTANCE_LABEL, NAME_LABEL, type ClusterObjects } from '../observer/map.js';
import { withTimeout } from '../util/timeout.js';
import { describeApiError } from './api.js';

/** Every member-side object carries this label (children/names.ts selectorLabels). */
export const CHILD_SELECTOR = `${NAME_LABEL}=raftstore`;

export type ResourceKind =
  | 'raftclusters'
  | 'statefulsets'
  | 'pods'
  | 'persistentvolumeclaims'
  | 'services'
  | 'poddisruptionbudgets'
  | 'serviceaccounts'
  /** Cluster-scoped, watched once: whether a cluster's volumes may grow. */
  | 'storageclasses';

export interface InformerEvents {
  /** An object changed; `kind` tells which informer saw it. */
  onChange(
    kind: ResourceKind,
    verb: 'add' | 'update' | 'delete',
    obj: KubernetesObject,
    old?: KubernetesObject,
  ): void;
  /** An informer failed and will be restarted (for metrics and logs). */
  onError?(kind: ResourceKind, namespace: string, error: string): void;
}

type ListFn = () => Promise<KubernetesListObject<KubernetesObject>>;

export interface InformerOptions {
  restartBaseMs: number;
  restartMaxMs: number;
  listTimeoutMs: number;
}

export const DEFAULT_INFORMER: InformerOptions = {
  restartBaseMs: 1000,
  restartMaxMs: 60_000,
  listTimeoutMs: 60_000,
};

/** Delay before the n-th consecutive restart (n ≥ 1): base·2^(n-1), capped. */
export function restartDelayMs(failures: number, options: InformerOptions = DEFAULT_INFORMER): number {
  return Math.min(options.restartMaxMs, options.restartBaseMs * 2 ** Math.max(0, failures - 1));
}

/** One ListWatch that comes back after errors. */
export class RestartingInformer {
  private readonly lw: ListWatch<KubernetesObject>;
  private state: 'idle' | 'running' | 'stopped' = 'idle';
  private synced = false;
  private failures = 0;
  private errorInAttempt = false;
  private restartTimer: NodeJS.Timeout | undefined;
  restarts = 0;

  constructor(
    readonly kind: ResourceKind,
    readonly namespace: string,
    path: string,
    list: ListFn,
    watch: Watch,
    labelSelector: string | undefined,
    private readonly events: InformerEvents,
    private readonly log: Logger,
    private readonly options: InformerOptions = DEFAULT_INFORMER,
  ) {
    this.lw = new ListWatch(path, watch, list, false, labelSelector);
    this.lw.on('add', (o) => events.onChange(kind, 'add', o));
    this.lw.on('update', (o) => events.onChange(kind, 'update', o));
    this.lw.on('delete', (o) => events.onChange(kind, 'delete', o));
    this.lw.on('error', (err: unknown) => this.onError(err));
  }

  isSynced(): boolean {
    return this.synced;
  }

  cache(): ListWatch<KubernetesObject> {
    return this.lw;
  }

  async start(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'running';
    this.errorInAttempt = false;
    await this.lw.start();
    if (!this.errorInAttempt && this.state === 'running') {
      if (!this.synced || this.failures > 0)
        this.log.info({ kind: this.kind, namespace: this.namespace || '*' }, 'informer synced');
      this.synced = true;
      this.failures = 0;
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.lw.stop();
  }

  private onError(err: unknown): void {
    if (this.state === 'stopped') return; // our own stop() aborts the watch, which reports an error
    this.errorInAttempt = true;
    const message = describeApiError(err);
    this.events.onError?.(this.kind, this.namespace, message);
    if (this.restartTimer !== undefined) return;
    this.failures += 1;
    const delay = restartDelayMs(this.failures, this.options);
    this.log.warn(
      { kind: this.kind, namespace: this.namespace || '*', err: message, restartInMs: delay },
      'informer stopped; restarting',
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarts += 1;
      this.start().catch((e: unknown) => this.onError(e));
    }, delay);
    this.restartTimer.unref();
  }
}

function check(list: unknown, what: string): KubernetesListObject<KubernetesObject> {
  const l = list as { items?: unknown; metadata?: { resourceVersion?: unknown } } | null;
  if (l === null || typeof l !== 'object' || !Array.isArray(l.items))
    throw new Error(`${what}: the list answer has no items`);
  return list as KubernetesListObject<KubernetesObject>;
}

/** All informers for the watched namespaces ("" = cluster-wide). */
export class Informers {
  private readonly informers: RestartingInformer[] = [];
  private readonly byKind = new Map<ResourceKind, RestartingInformer[]>();

  constructor(
    kc: KubeConfig,
    private readonly namespaces: readonly string[],
    events: InformerEvents,
    log: Logger,
    options: InformerOptions = DEFAULT_INFORMER,
  ) {
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const storage = kc.makeApiClient(StorageV1Api);
    const watch = new Watch(kc);
    const labelSelector = CHILD_SELECTOR;
    const t = options.listTimeoutMs;
    const scopes = namespaces.length === 0 ? [''] : namespaces;
    for (const ns of scopes) {
      const at = (group: string, resource: string): string =>
        `${group}${ns === '' ? '' : `/namespaces/${ns}`}/${resource}`;
      const defs: [ResourceKind, string, string | undefined, ListFn][] = [
        [
          'raftclusters',
          at(`/apis/${GROUP}/${VERSION}`, PLURAL),
          undefined,
          async () =>
            check(
              await withTimeout(
                ns === ''
                  ? custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })
                  : custom.listNamespacedCustomObject({
                      group: GROUP,
                      version: VERSION,
                      namespace: ns,
                      plural: PLURAL,
                    }),
                t,
                'list raftclusters',
              ),
              'list raftclusters',
            ),
        ],
        [
          'statefulsets',
          at('/apis/apps/v1', 'statefulsets'),
          labelSelector,
          () =>
            withTimeout<KubernetesListObject<V1StatefulSet>>(
              ns === ''
                ? apps.listStatefulSetForAllNamespaces({ labelSelector })
                : apps.listNamespacedStatefulSet({ namespace: ns, labelSelector }),
              t,
              'list statefulsets',
            ),
        ],
        [
          'pods',
          at('/api/v1', 'pods'),
          labelSelector,
          () =>
            withTimeout<KubernetesListObject<V1Pod>>(
              ns === ''
                ? core.listPodForAllNamespaces({ labelSelector })
                : core.listNamespacedPod({ namespace: ns, labelSelector }),
              t,
              'list pods',
            ),
        ],
        [
          'persistentvolumeclaims',
          at('/api/v1', 'persistentvolumeclaims'),
          labelSelector,
          () =>
            withTimeout<KubernetesListObject<V1PersistentVolumeClaim>>(
              ns === ''
                ? core.listPersistentVolumeClaimForAllNamespaces({ labelSelector })
                : core.listNamespacedPersistentVolumeClaim({ namespace: ns, labelSelector }),
              t,
              'list persistentvolumeclaims',
            ),
        ],
        [
          'services',
          at('/api/v1', 'services'),
          labelSelector,
          () =>
            withTimeout<KubernetesListObject<V1Service>>(
              ns === ''
                ? core.listServiceForAllNamespaces({ labelSelector })
                : core.listNamespacedService({ namespace: ns, labelSelector }),
              t,
              'list services',
            ),
        ],
        [
          'poddisruptionbudgets',
          at('/apis/policy/v1', 'poddisruptionbudgets'),
          labelSelector,
          () =>
            withTimeout<KubernetesListObject<V1PodDisruptionBudget>>(
              ns === ''
                ? policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector })
                : policy.listNamespacedPodDisruptionBudget({ namespace: ns, labelSelector }),
              t,
              'list poddisruptionbudgets',
            ),
        ],
        [
          'serviceaccounts',
          at('/api/v1', 'serviceaccounts'),
          labelSelector,
          () =>
            withTimeout<KubernetesListObject<V1ServiceAccount>>(
              ns === ''
                ? core.listServiceAccountForAllNamespaces({ labelSelector })
                : core.listNamespacedServiceAccount({ namespace: ns, labelSelector }),
              t,
              'list serviceaccounts',
            ),
        ],
      ];
      for (const [kind, path, selector, list] of defs) {
        const inf = new RestartingInformer(kind, ns, path, list, watch, selector, events, log, options);
        this.informers.push(inf);
        this.byKind.set(kind, [...(this.byKind.get(kind) ?? []), inf]);
      }
    }
    const classes = new RestartingInformer(
      'storageclasses',
      '',
      '/apis/storage.k8s.io/v1/storageclasses',
      () =>
        withTimeout<KubernetesListObject<V1StorageClass>>(
          storage.listStorageClass(),
          t,
          'list storageclasses',
        ),
      watch,
      undefined,
      events,
      log,
      options,
    );
    this.informers.push(classes);
    this.byKind.set('storageclasses', [classes]);
  }

  /** Starts every informer; resolves once each made its first attempt (synced or scheduled for a restart). */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  synced(): boolean {
    return this.informers.every((i) => i.isSynced());
  }

  unsynced(): string[] {
    return this.informers.filter((i) => !i.isSynced()).map((i) => `${i.kind}@${i.namespace || '*'}`);
  }

  restarts(): number {
    return this.informers.reduce((n, i) => n + i.restarts, 0);
  }

  private list(kind: ResourceKind, namespace: string): readonly KubernetesObject[] {
    const out: KubernetesObject[] = [];
    for (const inf of this.byKind.get(kind) ?? []) {
      if (inf.namespace !== '' && inf.namespace !== namespace) continue;
      out.push(...inf.cache().list(namespace));
    }
    return out;
  }

  /** The RaftCluster objects in the caches (raw JSON, to be parsed). */
  clusters(): KubernetesObject[] {
    return (this.byKind.get('raftclusters') ?? []).flatMap((i) => [...i.cache().list()]);
  }

  cluster(namespace: string, name: string): KubernetesObject | undefined {
    return this.list('raftclusters', namespace).find((c) => c.metadata?.name === name);
  }

  /** The cached children of one cluster (its namespace, its instance label). */
  objectsFor(namespace: string, clusterName: string): ClusterObjects {
    const mine = <T extends KubernetesObject>(kind: ResourceKind): T[] =>
      this.list(kind, namespace).filter((o) => o.metadata?.labels?.[INSTANCE_LABEL] === clusterName) as T[];
    return {
      statefulSets: mine<V1StatefulSet>('statefulsets'),
      pods: mine<V1Pod>('pods'),
      pvcs: mine<V1PersistentVolumeClaim>('persistentvolumeclaims'),
      services: mine<V1Service>('services'),
      pdbs: mine<V1PodDisruptionBudget>('poddisruptionbudgets'),
      serviceAccounts: mine<V1ServiceAccount>('serviceaccounts'),
      storageClasses: (this.byKind.get('storageclasses') ?? []).flatMap(
        (i) => [...i.cache().list()] as V1StorageClass[],
      ),
    };
  }
}

/** The work-queue key of the cluster an object belongs to; undefined for objects of no cluster. */
export function keyOf(kind: ResourceKind, obj: KubernetesObject): string | undefined {
  const ns = obj.metadata?.namespace;
  if (ns === undefined) return undefined;
  const name = kind === 'raftclusters' ? obj.metadata?.name : obj.metadata?.labels?.[INSTANCE_LABEL];
  return name === undefined || name === '' ? undefined : `${ns}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  if (i <= 0 || i === key.length - 1) throw new Error(`work-queue key "${key}" is not namespace/name`);
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** RaftCluster updates that only touched status (our own writes) do not need a reconcile. */
export function generationChanged(obj: KubernetesObject, old: KubernetesObject | undefined): boolean {
  if (old === undefined) return true;
  return (
    obj.metadata?.generation !== old.metadata?.generation ||
    (obj.metadata?.deletionTimestamp != null) !== (old.metadata?.deletionTimestamp != null)
  );
}
