// Volume expansion for the hostPath volumes of this Kubernetes (kube-controller-manager's hostPath provisioner has
// no resize of its own: its expand controller only records "waiting for an external controller to expand this
// PVC"). This is that external controller and the kubelet's half in one, as a CSI driver's external-resizer and node
// plugin would be: when a bound claim asks for more than it has, the volume's capacity is raised, then the claim's.
// A hostPath volume is a directory on the host's filesystem with no size of its own, so there is no filesystem to
// grow and the pod keeps running; the sizes are what the API reports and what the operator and users check.
import { Informer, type Logger } from './informer.js';
import { isNotFound, type KubeHttp } from './kube-http.js';
import type { PersistentVolume, PersistentVolumeClaim } from './kube-types.js';
import { parseQuantity } from './quantity.js';

const SWEEP_MS = 10_000;

/** The size a bound claim asks for beyond what it has, or undefined when it has what it asks. */
export function growTarget(pvc: PersistentVolumeClaim): string | undefined {
  const requested = pvc.spec.resources?.requests?.['storage'];
  const capacity = pvc.status?.capacity?.['storage'];
  if (pvc.status?.phase !== 'Bound' || requested === undefined || capacity === undefined) return undefined;
  try {
    return parseQuantity(requested) > parseQuantity(capacity) ? requested : undefined;
  } catch {
    return undefined; // the API server validated both; nothing sensible to do with a value it let through
  }
}

/** Ours to grow: the claim's own volume, a hostPath directory (a volume of another kind has its own resizer). */
export function isHostPathVolumeOf(pv: PersistentVolume | undefined, pvc: PersistentVolumeClaim): boolean {
  return pv !== undefined && pv.spec.hostPath !== undefined && pv.metadata.name === pvc.spec.volumeName;
}

export class VolumeResizer {
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly busy = new Set<string>();
  private sweep: NodeJS.Timeout | undefined;
  resized = 0;

  constructor(
    private readonly api: KubeHttp,
    private readonly log: Logger,
  ) {
    this.claims = new Informer<PersistentVolumeClaim>(
      api,
      '/api/v1/persistentvolumeclaims',
      log,
      (kind, key, pvc) => {
        if (kind === 'upsert') void this.consider(key, pvc);
      },
    );
  }

  start(): void {
    this.claims.start();
    // A failed expansion is retried by the sweep: the claim may not change again to wake us.
    this.sweep = setInterval(() => {
      for (const pvc of this.claims.list())
        void this.consider(`${pvc.metadata.namespace}/${pvc.metadata.name}`, pvc);
    }, SWEEP_MS);
    this.sweep.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweep);
    await this.claims.stop();
  }

  private async consider(key: string, pvc: PersistentVolumeClaim): Promise<void> {
    const volume = pvc.spec.volumeName;
    const size = growTarget(pvc);
    if (volume === undefined || size === undefined || this.busy.has(key)) return;
    this.busy.add(key);
    try {
      const pv = await this.api
        .get<PersistentVolume>(`/api/v1/persistentvolumes/${volume}`)
        .catch((e: unknown) => {
          if (isNotFound(e)) return undefined;
          throw e;
        });
      if (!isHostPathVolumeOf(pv, pvc)) return;
      const ns = pvc.metadata.namespace ?? 'default';
      // The volume first, then the claim: a claim never reports more than its volume has.
      await this.api.request(
        'PATCH',
        `/api/v1/persistentvolumes/${volume}`,
        { spec: { capacity: { storage: size } } },
        'application/merge-patch+json',
      );
      await this.api.request(
        'PATCH',
        `/api/v1/namespaces/${ns}/persistentvolumeclaims/${pvc.metadata.name}/status`,
        { status: { capacity: { storage: size }, conditions: null } },
        'application/merge-patch+json',
      );
      this.resized++;
      this.log.info({ claim: key, volume, size }, 'volume expanded (hostPath: no filesystem to grow)');
    } catch (err) {
      // The claim's next update (or the informer's re-list) tries again.
      this.log.warn({ claim: key, err: String(err) }, 'volume expansion failed');
    } finally {
      this.busy.delete(key);
    }
  }
}
