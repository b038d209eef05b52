// Everything one simulated node does: its registration/heartbeats and a pod worker per pod bound to it.
import type { Logger } from './informer.js';
import { Informer, sleep } from './informer.js';
import type { KubeHttp } from './kube-http.js';
import type { Pod } from './kube-types.js';
import { NodeRegistration } from './node-registration.js';
import type { SimulatedNode } from './node-status.js';
import { PodWorker, type NodeContext } from './pod-worker.js';

const REGISTER_TIMEOUT_MS = 60_000;

export class NodeAgent {
  readonly registration: NodeRegistration;
  private readonly workers = new Map<string, PodWorker>();
  private readonly informer: Informer<Pod>;

  constructor(
    readonly node: SimulatedNode,
    private readonly api: KubeHttp,
    private readonly ctx: Omit<NodeContext, 'paused'>,
    private readonly log: Logger,
  ) {
    this.registration = new NodeRegistration(node, api, log, ctx.nowMs);
    this.informer = new Informer<Pod>(
      api,
      `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node.name}`)}`,
      log,
      (kind, key, pod) => this.onPod(kind, key, pod),
    );
  }

  /** Registers the node (retrying while the API server is not ready yet, up to a bound), then watches its pods. */
  async start(): Promise<void> {
    const deadline = this.ctx.nowMs() + REGISTER_TIMEOUT_MS;
    for (;;) {
      try {
        await this.registration.register();
        break;
      } catch (err) {
        if (this.ctx.nowMs() > deadline) throw err;
        this.log.warn(
          { node: this.node.name, err: err instanceof Error ? err.message : String(err) },
          'node registration failed; retrying',
        );
        await sleep(2_000);
      }
    }
    this.informer.start();
  }

  private onPod(kind: 'upsert' | 'delete', key: string, pod: Pod): void {
    const uid = pod.metadata.uid ?? '';
    const existing = this.workers.get(key);
    if (kind === 'delete') {
      if (existing?.uid === uid) existing.update(undefined);
      return;
    }
    if (existing !== undefined && existing.uid !== uid) {
      // Same name, new pod (a StatefulSet recreated it): the old one is gone from the API.
      existing.update(undefined);
    }
    if (existing === undefined || existing.uid !== uid) {
      const phase = pod.status?.phase;
      if ((phase === 'Succeeded' || phase === 'Failed') && pod.metadata.deletionTimestamp === undefined)
        return;
      const ctx: NodeContext = { ...this.ctx, paused: () => this.registration.isStopped() };
      const w = new PodWorker(ctx, key, uid, pod, (done) => {
        if (this.workers.get(key) === done) this.workers.delete(key);
      });
      this.workers.set(key, w);
      return;
    }
    existing.update(pod);
  }

  logPath(
    namespace: string,
    pod: string,
    container: string | undefined,
    previous: boolean,
  ): string | undefined {
    return this.workers.get(`${namespace}/${pod}`)?.logPath(container, previous);
  }

  pods(): PodWorker[] {
    return [...this.workers.values()];
  }

  find(key: string): PodWorker | undefined {
    return this.workers.get(key);
  }

  /** Fault: the machine stops talking to the API; with kill, its pod processes die too (power loss). */
  stop(kill: boolean): void {
    this.registration.stop();
    if (kill) for (const w of this.workers.values()) w.killProcesses();
  }

  resume(): void {
    this.registration.start();
    for (const w of this.workers.values()) w.kick();
  }

  async shutdown(graceMs: number): Promise<void> {
    this.registration.close();
    await this.informer.stop();
    await Promise.all([...this.workers.values()].map((w) => w.shutdown(graceMs)));
    this.workers.clear();
  }
}
