// One simulated machine's presence in the cluster: registers its Node (pod CIDR, capacity, addresses), renews its
// Lease in kube-node-lease every 10 s and reports Ready status. Stopping it (a fault) stops both, so the real
// node-lifecycle controller marks it NotReady/Unknown and taints it, as for a machine that died.
import { randomUUID } from 'node:crypto';
import type { Logger } from './informer.js';
import { isConflict, isNotFound, type KubeHttp } from './kube-http.js';
import type { Lease, Node } from './kube-types.js';
import { nodeObject, nodeStatus, nodeStatusDue, type SimulatedNode } from './node-status.js';

const LEASE_DURATION_SECONDS = 40;
const RENEW_INTERVAL_MS = 10_000;
/** Like the kubelet's nodeStatusReportFrequency when nothing changed (kept short so heartbeats stay visible). */
const STATUS_REPORT_INTERVAL_MS = 60_000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Lease times are MicroTime: RFC 3339 with exactly six fractional digits, or the API server rejects them. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class NodeRegistration {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private busy = false;
  private readonly bootID = randomUUID();

  constructor(
    readonly node: SimulatedNode,
    private readonly api: KubeHttp,
    private readonly log: Logger,
    private readonly nowMs: () => number,
  ) {}

  /** Creates or adopts the Node object and starts heartbeats. Throws if the API server rejects the node. */
  async register(): Promise<void> {
    try {
      await this.api.request('POST', '/api/v1/nodes', nodeObject(this.node));
      this.log.info({ node: this.node.name }, 'node registered');
    } catch (err) {
      if (!isConflict(err))
        throw new Error(
          `registering node ${this.node.name}: ${err instanceof Error ? err.message : String(err)}`,
        );
      const existing = await this.api.get<Node>(`/api/v1/nodes/${this.node.name}`);
      if (existing.spec?.podCIDR !== undefined && existing.spec.podCIDR !== this.node.podCIDR) {
        throw new Error(
          `node ${this.node.name} already exists with podCIDR ${existing.spec.podCIDR}, want ${this.node.podCIDR} (delete it or run kube:down)`,
        );
      }
    }
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), RENEW_INTERVAL_MS);
  }

  /** Fault: the machine goes silent. */
  stop(): void {
    this.stopped = true;
  }
  /** The machine is back: like a kubelet starting, it registers again if its Node object was deleted meanwhile. */
  start(): void {
    this.stopped = false;
    void this.reregister();
  }

  private async reregister(): Promise<void> {
    try {
      await this.api.request('POST', '/api/v1/nodes', nodeObject(this.node));
      this.log.info({ node: this.node.name }, 'node registered again (its Node object was gone)');
    } catch (err) {
      if (!isConflict(err))
        this.log.warn(
          { node: this.node.name, err: err instanceof Error ? err.message : String(err) },
          'node re-registration failed',
        );
    }
    await this.heartbeat();
  }
  isStopped(): boolean {
    return this.stopped;
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped || this.busy) return;
    this.busy = true;
    try {
      await this.renewLease();
      await this.updateStatus();
    } catch (err) {
      this.log.warn(
        { node: this.node.name, err: err instanceof Error ? err.message : String(err) },
        'node heartbeat failed',
      );
    } finally {
      this.busy = false;
    }
  }

  private async renewLease(): Promise<void> {
    const p = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${this.node.name}`;
    const now = microTime(this.nowMs());
    let lease: Lease | undefined;
    try {
      lease = await this.api.get<Lease>(p);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (lease === undefined) {
      const node = await this.api.get<Node>(`/api/v1/nodes/${this.node.name}`);
      await this.api.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name: this.node.name,
          namespace: 'kube-node-lease',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'Node', name: this.node.name, uid: node.metadata.uid ?? '' },
          ],
        },
        spec: {
          holderIdentity: this.node.name,
          leaseDurationSeconds: LEASE_DURATION_SECONDS,
          renewTime: now,
        },
      });
      return;
    }
    lease.spec.renewTime = now;
    lease.spec.holderIdentity = this.node.name;
    lease.spec.leaseDurationSeconds = LEASE_DURATION_SECONDS;
    await this.api.request('PUT', p, lease);
  }

  private async updateStatus(): Promise<void> {
    const node = await this.api.get<Node>(`/api/v1/nodes/${this.node.name}`);
    const now = this.nowMs();
    const next = nodeStatus(this.node, node.status, iso(now), this.bootID);
    if (!nodeStatusDue(node.status, next, now, STATUS_REPORT_INTERVAL_MS)) return;
    // Keep whatever others set on the status (e.g. images, volumesAttached) and replace what we report.
    await this.api.request('PUT', `/api/v1/nodes/${this.node.name}/status`, {
      ...node,
      status: { ...node.status, ...next },
    });
  }
}
