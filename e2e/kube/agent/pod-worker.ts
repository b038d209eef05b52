// The lifecycle of one pod on one simulated node, like the kubelet's pod worker: one serialised, level-based
// reconcile loop per pod. Each pass reads the latest pod object, brings the sandbox, volumes and containers towards
// it (start, back-off, probes, restarts), then writes the pod status subresource if it changed. A pod with a
// deletionTimestamp is stopped gracefully (preStop, SIGTERM, grace period, SIGKILL) and its deletion confirmed.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nextRestartDelayMs, shouldRestart, type BackoffPolicy } from './backoff.js';
import { ContainerProcess, signalNumber } from './container-process.js';
import { envReferences, expandVars, resolveEnv } from './env.js';
import type { PodRuntimeFacts } from './field-refs.js';
import { resolveImage, type ImageTable } from './images.js';
import type { Logger } from './informer.js';
import type { IpAllocator } from './ip-alloc.js';
import { isConflict, isNotFound, type KubeHttp } from './kube-http.js';
import type {
  ConfigMap,
  Container,
  ContainerStatus,
  ContainerStateTerminated,
  Pod,
  PodStatus,
  Probe,
  Secret,
} from './kube-types.js';
import { IMAGE_ROOT, renderLauncher, type BindMount } from './launcher.js';
import { computePodStatus, sameStatus } from './pod-status.js';
import {
  initialProbeState,
  probeDemandsRestart,
  probeDue,
  probeTiming,
  recordProbe,
  type ProbeKind,
  type ProbeState,
  type ProbeTiming,
} from './probe-schedule.js';
import { runAction } from './probes.js';
import {
  createSandbox,
  destroySandbox,
  heal,
  partition,
  sandboxNames,
  type NetworkSettings,
  type SandboxNames,
} from './sandbox.js';
import { getOptional, materialiseVolumes, VolumeNotReady, type MaterialisedVolumes } from './volumes.js';

export interface NodeContext {
  nodeName: string;
  hostIP: string;
  podCIDR: string;
  allocatable: Record<string, string>;
  api: KubeHttp;
  ips: IpAllocator;
  net: NetworkSettings;
  images: ImageTable;
  repo: string;
  /** The agent's own state dir (…/agent). */
  agentDir: string;
  backoff: BackoffPolicy;
  serviceEnv: Record<string, string>;
  log: Logger;
  nowMs: () => number;
  /** Host directories we created as mount points; removed at shutdown. */
  createdMountPoints: Set<string>;
  /** A stopped node talks to nobody: no status writes, no deletion confirmations. */
  paused: () => boolean;
}

interface ProbeSlot {
  spec: Probe;
  timing: ProbeTiming;
  state: ProbeState;
}

interface ContainerRecord {
  spec: Container;
  init: boolean;
  proc: ContainerProcess | undefined;
  env: Record<string, string>;
  status: ContainerStatus;
  restartDelayMs: number | undefined;
  restartAtMs: number | undefined;
  imagePullFailures: number;
  probes: Partial<Record<ProbeKind, ProbeSlot>>;
  probing: boolean;
  killReason: string | undefined;
  /** Init container succeeded, or a container that will not restart has exited. */
  done: boolean;
}

const TICK_MS = 1000;
const DEFAULT_GRACE_SECONDS = 30;
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class PodWorker {
  private pod: Pod | undefined;
  private sandbox: SandboxNames | undefined;
  private podIP: string | undefined;
  private volumes: MaterialisedVolumes | undefined;
  private setupMessage: { reason: string; message: string } | undefined;
  private readonly records = new Map<string, ContainerRecord>();
  private running = false;
  private dirty = false;
  private finished = false;
  private readonly timer: NodeJS.Timeout;
  private partitioned: string[] | undefined;

  constructor(
    private readonly ctx: NodeContext,
    readonly key: string,
    readonly uid: string,
    pod: Pod,
    private readonly onFinished: (w: PodWorker) => void,
  ) {
    this.pod = pod;
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref();
    this.kick();
  }

  get ip(): string | undefined {
    return this.podIP;
  }
  get names(): SandboxNames | undefined {
    return this.sandbox;
  }
  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [n, r] of this.records) if (r.proc !== undefined && !r.proc.hasExited) out[n] = r.proc.pid;
    return out;
  }

  /** The container's log file: of its current (or last) run, or of the run before with previous. */
  logPath(container: string | undefined, previous: boolean): string | undefined {
    const pod = this.pod;
    if (pod === undefined) return undefined;
    const name = container ?? pod.spec.containers[0]?.name;
    const r = name === undefined ? undefined : this.records.get(name);
    if (r === undefined || name === undefined) return undefined;
    const n = previous ? r.status.restartCount - 1 : r.status.restartCount;
    if (n < 0) return undefined;
    return path.join(
      this.ctx.agentDir,
      'logs',
      `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${this.uid}`,
      name,
      `${n}.log`,
    );
  }

  update(pod: Pod | undefined): void {
    if (pod !== undefined && pod.metadata.uid !== this.uid) return;
    // Our own status writes can overtake the watch; never step back to an older version of the object.
    if (
      pod !== undefined &&
      this.pod !== undefined &&
      Number(pod.metadata.resourceVersion) < Number(this.pod.metadata.resourceVersion)
    )
      return;
    this.pod = pod;
    this.kick();
  }

  kick(): void {
    if (this.finished) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.dirty = false;
        try {
          await this.reconcile();
        } catch (err) {
          this.ctx.log.error(
            { pod: this.key, err: err instanceof Error ? err.message : String(err) },
            'pod reconcile failed; retrying',
          );
        }
      } while (this.dirty && !this.finished);
    } finally {
      this.running = false;
    }
  }

  /** Fault injection: SIGKILL the container processes (all, or one by name). */
  killProcesses(container?: string): number {
    let n = 0;
    for (const [name, r] of this.records) {
      if (container !== undefined && name !== container) continue;
      if (r.proc !== undefined && !r.proc.hasExited) {
        r.proc.signal('SIGKILL');
        n++;
      }
    }
    return n;
  }

  async partition(
    peers: readonly string[],
    keepServiceIPs: readonly string[],
    serviceCidr: string,
  ): Promise<void> {
    if (this.sandbox === undefined) throw new Error(`pod ${this.key} has no network namespace yet`);
    await partition(this.sandbox, this.ctx.net, '10.244.0.0/16', serviceCidr, keepServiceIPs, peers);
    this.partitioned = [...peers];
  }

  async heal(): Promise<void> {
    if (this.sandbox !== undefined) await heal(this.sandbox);
    this.partitioned = undefined;
  }

  isPartitioned(): boolean {
    return this.partitioned !== undefined;
  }

  /** Agent shutdown: stop everything without touching the API (the pod object stays as it is). */
  async shutdown(graceMs: number): Promise<void> {
    this.finished = true;
    clearInterval(this.timer);
    await Promise.all([...this.records.values()].map(async (r) => r.proc?.stop(graceMs)));
    await this.teardown();
  }

  private podDir(): string {
    return path.join(this.ctx.agentDir, 'pods', this.uid);
  }

  private facts(): PodRuntimeFacts {
    return {
      podIP: this.podIP ?? '',
      hostIP: this.ctx.hostIP,
      nodeName: this.ctx.nodeName,
      nodeAllocatable: this.ctx.allocatable,
    };
  }

  private async reconcile(): Promise<void> {
    if (this.ctx.paused()) return;
    const pod = this.pod;
    if (pod === undefined || pod.metadata.deletionTimestamp !== undefined) {
      await this.terminate(pod);
      return;
    }
    const phase = pod.status?.phase;
    const anyRunning = [...this.records.values()].some((r) => r.proc !== undefined);
    if ((phase === 'Succeeded' || phase === 'Failed') && !anyRunning) {
      await this.teardown();
      return;
    }
    await this.ensureSandbox(pod);
    if (this.sandbox !== undefined) await this.ensureVolumes(pod);
    let initialized = true;
    if (this.setupMessage === undefined) {
      for (const c of pod.spec.initContainers ?? []) {
        const r = this.record(c, true);
        if (r.done) continue;
        await this.step(pod, r);
        if (!r.done) {
          initialized = false;
          break;
        }
      }
      if (initialized) for (const c of pod.spec.containers) await this.step(pod, this.record(c, false));
    } else {
      initialized = (pod.spec.initContainers ?? []).length === 0;
    }
    await this.writeStatus(pod, initialized);
  }

  private record(c: Container, init: boolean): ContainerRecord {
    let r = this.records.get(c.name);
    if (r === undefined) {
      r = {
        spec: c,
        init,
        proc: undefined,
        env: {},
        status: {
          name: c.name,
          state: { waiting: { reason: init ? 'PodInitializing' : 'ContainerCreating' } },
          lastState: {},
          ready: false,
          restartCount: 0,
          image: c.image,
          imageID: '',
          started: false,
        },
        restartDelayMs: undefined,
        restartAtMs: undefined,
        imagePullFailures: 0,
        probes: {},
        probing: false,
        killReason: undefined,
        done: false,
      };
      this.records.set(c.name, r);
    }
    return r;
  }

  private async ensureSandbox(pod: Pod): Promise<void> {
    if (this.sandbox !== undefined) return;
    try {
      const ip = this.ctx.ips.allocate(this.uid);
      this.podIP = ip;
      this.sandbox = await createSandbox(this.ctx.net, {
        podUID: this.uid,
        podName: pod.metadata.name,
        namespace: pod.metadata.namespace ?? 'default',
        hostname: pod.spec.hostname,
        subdomain: pod.spec.subdomain,
        podIP: ip,
      });
      this.setupMessage = undefined;
      this.ctx.log.info({ pod: this.key, ip, netns: this.sandbox.netns }, 'sandbox created');
    } catch (err) {
      this.sandbox = undefined;
      this.setupMessage = {
        reason: 'ContainerCreating',
        message: `failed to create pod sandbox: ${err instanceof Error ? err.message : String(err)}`,
      };
      this.ctx.log.warn({ pod: this.key, err: this.setupMessage.message }, 'sandbox creation failed');
    }
  }

  private async ensureVolumes(pod: Pod): Promise<void> {
    const now = this.ctx.nowMs();
    if (
      this.volumes !== undefined &&
      (this.volumes.refreshAtMs === undefined || now < this.volumes.refreshAtMs)
    )
      return;
    try {
      this.volumes = await materialiseVolumes({
        api: this.ctx.api,
        pod,
        facts: this.facts(),
        podDir: this.podDir(),
        nowMs: now,
      });
      this.setupMessage = undefined;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.volumes !== undefined) {
        // A failed refresh keeps the old files; try again on the next pass.
        this.ctx.log.warn({ pod: this.key, err: message }, 'volume refresh failed');
        return;
      }
      this.setupMessage = { reason: 'ContainerCreating', message: `MountVolume.SetUp failed: ${message}` };
      if (!(err instanceof VolumeNotReady))
        this.ctx.log.warn({ pod: this.key, err: message }, 'volume setup failed');
    }
  }

  private async step(pod: Pod, r: ContainerRecord): Promise<void> {
    const now = this.ctx.nowMs();
    if (r.proc !== undefined) {
      const exit = r.proc.exitInfo;
      if (exit === undefined) {
        this.probe(pod, r);
        return;
      }
      this.handleExit(pod, r, exit.exitCode, exit.signal, r.proc.startedAtMs, exit.finishedAtMs);
      return;
    }
    if (r.done) return;
    if (r.restartAtMs !== undefined && now < r.restartAtMs) return;
    await this.start(pod, r);
  }

  private handleExit(
    pod: Pod,
    r: ContainerRecord,
    exitCode: number,
    signal: string | undefined,
    startedAtMs: number,
    finishedAtMs: number,
  ): void {
    const term: ContainerStateTerminated = {
      exitCode,
      reason: r.killReason !== undefined ? 'Error' : exitCode === 0 ? 'Completed' : 'Error',
      startedAt: iso(startedAtMs),
      finishedAt: iso(finishedAtMs),
      ...(r.status.containerID === undefined ? {} : { containerID: r.status.containerID }),
      ...(signal === undefined ? {} : { signal: signalNumber(signal) }),
      ...(r.killReason === undefined ? {} : { message: r.killReason }),
    };
    r.proc = undefined;
    r.probes = {};
    r.killReason = undefined;
    r.status.ready = false;
    r.status.started = false;
    const restart = r.init
      ? exitCode !== 0 && pod.spec.restartPolicy !== 'Never'
      : shouldRestart(pod.spec.restartPolicy, exitCode);
    this.ctx.log.info(
      { pod: this.key, container: r.spec.name, exitCode, signal, restart },
      'container exited',
    );
    if (!restart) {
      r.status.state = { terminated: term };
      r.done = true;
      return;
    }
    const delay = nextRestartDelayMs(this.ctx.backoff, r.restartDelayMs, finishedAtMs - startedAtMs);
    r.restartDelayMs = delay;
    r.restartAtMs = finishedAtMs + delay;
    r.status.lastState = { terminated: term };
    r.status.state = {
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${r.spec.name} pod=${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${this.uid})`,
      },
    };
  }

  private async start(pod: Pod, r: ContainerRecord): Promise<void> {
    const now = this.ctx.nowMs();
    const c = r.spec;
    if (this.sandbox === undefined || this.volumes === undefined || this.podIP === undefined) return;
    const resolved = resolveImage(this.ctx.images, c.image, IMAGE_ROOT, c.command, c.args);
    if (resolved === undefined) {
      // Like a registry that does not have the image: ErrImagePull, then ImagePullBackOff between retries.
      r.imagePullFailures++;
      const delay = nextRestartDelayMs(this.ctx.backoff, r.restartDelayMs, 0);
      r.restartDelayMs = delay;
      r.restartAtMs = now + delay;
      r.status.state = {
        waiting: {
          reason: r.imagePullFailures === 1 ? 'ErrImagePull' : 'ImagePullBackOff',
          message: `image ${JSON.stringify(c.image)} is not in e2e/kube/images.json (no local command for it)`,
        },
      };
      return;
    }
    const ns = pod.metadata.namespace ?? 'default';
    const refs = envReferences(c);
    const configMaps = new Map<string, ConfigMap | undefined>();
    const secrets = new Map<string, Secret | undefined>();
    for (const n of refs.configMaps)
      configMaps.set(
        n,
        await getOptional<ConfigMap>(this.ctx.api, `/api/v1/namespaces/${ns}/configmaps/${n}`),
      );
    for (const n of refs.secrets)
      secrets.set(n, await getOptional<Secret>(this.ctx.api, `/api/v1/namespaces/${ns}/secrets/${n}`));
    const hostname = pod.spec.hostname ?? pod.metadata.name;
    const base = {
      PATH: BASE_PATH + ':' + path.dirname(process.execPath),
      HOSTNAME: hostname,
      HOME: '/root',
      ...resolved.env,
    };
    const env = resolveEnv(pod, c, this.facts(), base, {
      configMaps,
      secrets,
      serviceEnv: this.ctx.serviceEnv,
    });
    if (!env.ok) {
      r.status.state = { waiting: { reason: env.reason, message: env.message } };
      return;
    }
    const mounts: BindMount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const dir = this.volumes.dirs.get(m.name);
      if (dir === undefined) {
        r.status.state = {
          waiting: { reason: 'CreateContainerConfigError', message: `volumeMount ${m.name}: no such volume` },
        };
        return;
      }
      const source = m.subPath !== undefined && m.subPath !== '' ? path.join(dir, m.subPath) : dir;
      if (source !== dir) await mkdir(source, { recursive: true });
      mounts.push({ source, target: m.mountPath, readOnly: m.readOnly === true });
      await this.ensureMountPoint(m.mountPath);
    }
    const argv = resolved.argv.map((a) => expandVars(a, env.env));
    const launcherPath = path.join(this.podDir(), `launch-${c.name}.sh`);
    await mkdir(this.podDir(), { recursive: true });
    await writeFile(
      launcherPath,
      renderLauncher(mounts, argv, c.workingDir ?? resolved.cwd, hostname, {
        source: this.ctx.repo,
        target: IMAGE_ROOT,
        readOnly: false,
      }),
      {
        mode: 0o700,
      },
    );
    const restarted = r.status.lastState.terminated !== undefined;
    const restartCount =
      r.status.restartCount + (restarted && r.status.state.waiting?.reason === 'CrashLoopBackOff' ? 1 : 0);
    const logPath = path.join(
      this.ctx.agentDir,
      'logs',
      `${ns}_${pod.metadata.name}_${this.uid}`,
      c.name,
      `${restartCount}.log`,
    );
    const proc = ContainerProcess.start(
      { netns: this.sandbox.netns, launcherPath, env: env.env, logPath },
      now,
    );
    void proc.exited.then(() => this.kick());
    r.proc = proc;
    r.env = env.env;
    r.restartAtMs = undefined;
    r.killReason = undefined;
    r.imagePullFailures = 0;
    r.status = {
      ...r.status,
      restartCount,
      imageID: resolved.imageID,
      containerID: `raftstore://${this.uid}/${c.name}/${restartCount}`,
      state: { running: { startedAt: iso(now) } },
      ready: false,
      started: c.startupProbe === undefined,
    };
    r.probes = {};
    for (const kind of ['startup', 'liveness', 'readiness'] as const) {
      const spec =
        kind === 'startup' ? c.startupProbe : kind === 'liveness' ? c.livenessProbe : c.readinessProbe;
      if (spec === undefined || r.init) continue;
      const timing = probeTiming(spec, kind);
      r.probes[kind] = { spec, timing, state: initialProbeState(kind, timing, now) };
    }
    r.status.ready = !r.init && r.probes.readiness === undefined && r.probes.startup === undefined;
    this.ctx.log.info(
      { pod: this.key, container: c.name, pid: proc.pid, argv, restartCount },
      'container started',
    );
  }

  private async ensureMountPoint(target: string): Promise<void> {
    // The launcher bind-mounts in a private mount namespace, but the mount point directory itself lives on the
    // host's filesystem; remember the top-most one we create so shutdown can remove it again.
    const created = await mkdir(target, { recursive: true });
    if (created === undefined) return;
    // Every level from the first new directory down to the target, so deepest-first rmdir removes them all.
    for (let d = path.resolve(target); d.length >= created.length; d = path.dirname(d)) {
      this.ctx.createdMountPoints.add(d);
      if (d === created || d === '/') break;
    }
  }

  /** Starts the due probes without blocking the reconcile pass; their results land in a later pass. */
  private probe(pod: Pod, r: ContainerRecord): void {
    if (r.probing || r.proc === undefined || this.podIP === undefined) return;
    const now = this.ctx.nowMs();
    const startupDone = r.probes.startup === undefined || r.probes.startup.state.result === 'success';
    const due = (['startup', 'liveness', 'readiness'] as const).filter((k) => {
      const slot = r.probes[k];
      if (slot === undefined || !probeDue(slot.state, now)) return false;
      if (k === 'startup') return slot.state.result !== 'success';
      return startupDone;
    });
    if (due.length === 0) return;
    r.probing = true;
    void this.runProbes(pod, r, r.proc, due).finally(() => {
      r.probing = false;
      this.kick();
    });
  }

  private async runProbes(
    pod: Pod,
    r: ContainerRecord,
    proc: ContainerProcess,
    due: readonly ProbeKind[],
  ): Promise<void> {
    const target = { podIP: this.podIP ?? '', ports: r.spec.ports ?? [], pid: proc.pid, env: r.env };
    const results = await Promise.all(
      due.map(
        async (k) =>
          [
            k,
            await runAction(r.probes[k]?.spec ?? {}, target, r.probes[k]?.timing.timeoutMs ?? 1000),
          ] as const,
      ),
    );
    if (r.proc !== proc || proc.hasExited) return;
    const at = this.ctx.nowMs();
    for (const [k, res] of results) {
      const slot = r.probes[k];
      if (slot === undefined) continue;
      slot.state = recordProbe(slot.state, slot.timing, res.ok, at);
      if (probeDemandsRestart(slot.state) && r.killReason === undefined) {
        r.killReason = `Container ${r.spec.name} failed ${k} probe, will be restarted: ${res.message}`;
        this.ctx.log.info(
          { pod: this.key, container: r.spec.name, probe: k, msg: res.message },
          'probe failed; killing container',
        );
        void proc.stop((pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS) * 1000);
      }
    }
    r.status.started = r.probes.startup === undefined || r.probes.startup.state.result === 'success';
    r.status.ready =
      r.status.started &&
      (r.probes.readiness === undefined || r.probes.readiness.state.result === 'success') &&
      r.killReason === undefined;
  }

  private observedStatus(pod: Pod, initialized: boolean): PodStatus {
    const statuses = (list: Container[], init: boolean): ContainerStatus[] =>
      list.map((c) => {
        const r = this.records.get(c.name);
        if (r !== undefined) {
          if (this.setupMessage !== undefined && r.proc === undefined && !r.done)
            return { ...r.status, state: { waiting: this.setupMessage } };
          return r.status;
        }
        const waiting = this.setupMessage ?? {
          reason: init ? 'PodInitializing' : initialized ? 'ContainerCreating' : 'PodInitializing',
        };
        return {
          name: c.name,
          state: { waiting },
          lastState: {},
          ready: false,
          restartCount: 0,
          image: c.image,
          imageID: '',
          started: false,
        };
      });
    return computePodStatus(pod, {
      hostIP: this.ctx.hostIP,
      ...(this.podIP === undefined || this.sandbox === undefined ? {} : { podIP: this.podIP }),
      sandboxReady: this.sandbox !== undefined,
      initialized,
      initContainerStatuses: statuses(pod.spec.initContainers ?? [], true),
      containerStatuses: statuses(pod.spec.containers, false),
      nowIso: iso(this.ctx.nowMs()),
    });
  }

  private async writeStatus(pod: Pod, initialized: boolean): Promise<void> {
    const status = this.observedStatus(pod, initialized);
    if (sameStatus(pod.status, status)) return;
    await this.putStatus(pod, status);
  }

  private async putStatus(pod: Pod, status: PodStatus): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const p = `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/status`;
    let base = pod;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const updated = await this.ctx.api.request<Pod>('PUT', p, { ...base, status });
        const cur = this.pod;
        if (
          cur !== undefined &&
          cur.metadata.deletionTimestamp === undefined &&
          Number(updated.metadata.resourceVersion) > Number(cur.metadata.resourceVersion)
        )
          this.pod = updated;
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (!isConflict(err)) throw err;
        const fresh = await getOptional<Pod>(
          this.ctx.api,
          `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}`,
        );
        if (fresh === undefined || fresh.metadata.uid !== this.uid) return;
        base = fresh;
        if (sameStatus(fresh.status, status)) return;
        // Recompute against the fresh object so condition transition times stay right.
        status = computePodStatus(fresh, { ...statusInputs(status), nowIso: iso(this.ctx.nowMs()) });
      }
    }
    throw new Error(`pod ${this.key}: status update kept conflicting`);
  }

  private async terminate(pod: Pod | undefined): Promise<void> {
    const graceSeconds =
      pod?.metadata.deletionGracePeriodSeconds ??
      pod?.spec.terminationGracePeriodSeconds ??
      (pod === undefined ? 2 : DEFAULT_GRACE_SECONDS);
    const deadline = this.ctx.nowMs() + graceSeconds * 1000;
    this.ctx.log.info({ pod: this.key, graceSeconds }, 'stopping pod');
    await Promise.all(
      [...this.records.values()].map(async (r) => {
        const proc = r.proc;
        if (proc === undefined || proc.hasExited) return;
        const hook = r.spec.lifecycle?.preStop;
        if (hook !== undefined && this.podIP !== undefined) {
          const budget = Math.max(0, deadline - this.ctx.nowMs());
          const res = await runAction(
            hook,
            { podIP: this.podIP, ports: r.spec.ports ?? [], pid: proc.pid, env: r.env },
            budget,
          );
          if (!res.ok)
            this.ctx.log.warn(
              { pod: this.key, container: r.spec.name, msg: res.message },
              'preStop hook failed',
            );
        }
        const exit = await proc.stop(Math.max(0, deadline - this.ctx.nowMs()));
        this.handleExit(
          {
            ...(pod ?? { metadata: { name: '' }, spec: { containers: [] } }),
            spec: { ...(pod?.spec ?? { containers: [] }), restartPolicy: 'Never' },
          },
          r,
          exit.exitCode,
          exit.signal,
          proc.startedAtMs,
          exit.finishedAtMs,
        );
      }),
    );
    // A worker that never ran anything (e.g. it saw the pod only after deletion began) has no status to report.
    if (pod !== undefined && this.records.size > 0) {
      for (const r of this.records.values()) {
        if (r.status.state.terminated === undefined) {
          r.status.state = {
            terminated: {
              exitCode: 137,
              reason: 'ContainerStatusUnknown',
              message: 'The container could not be located when the pod was terminated',
            },
          };
        }
      }
      try {
        await this.writeStatus(pod, true);
      } catch (err) {
        this.ctx.log.warn({ pod: this.key, err: String(err) }, 'final status write failed');
      }
    }
    await this.teardown();
    if (pod !== undefined) {
      try {
        await this.ctx.api.request(
          'DELETE',
          `/api/v1/namespaces/${pod.metadata.namespace ?? 'default'}/pods/${pod.metadata.name}`,
          {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            gracePeriodSeconds: 0,
            preconditions: { uid: this.uid },
          },
        );
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) {
          // Not finished: the next pass retries the confirmation.
          this.ctx.log.warn({ pod: this.key, err: String(err) }, 'confirming pod deletion failed');
          return;
        }
      }
    }
    this.finished = true;
    clearInterval(this.timer);
    this.ctx.log.info({ pod: this.key }, 'pod stopped and removed');
    this.onFinished(this);
  }

  private async teardown(): Promise<void> {
    if (this.sandbox !== undefined || this.podIP !== undefined) {
      await destroySandbox(this.sandbox ?? sandboxNames(this.uid));
      this.sandbox = undefined;
      this.ctx.ips.release(this.uid);
      this.podIP = undefined;
    }
    // emptyDir and the other pod-local volumes go with the pod; PVC data lives in the PV's directory.
    await rm(this.podDir(), { recursive: true, force: true });
    this.volumes = undefined;
  }
}

function statusInputs(s: PodStatus): Omit<Parameters<typeof computePodStatus>[1], 'nowIso'> {
  return {
    hostIP: s.hostIP ?? '',
    ...(s.podIP === undefined ? {} : { podIP: s.podIP }),
    sandboxReady: s.conditions?.find((c) => c.type === 'PodReadyToStartContainers')?.status === 'True',
    initialized: s.conditions?.find((c) => c.type === 'Initialized')?.status === 'True',
    initContainerStatuses: s.initContainerStatuses ?? [],
    containerStatuses: s.containerStatuses ?? [],
  };
}
