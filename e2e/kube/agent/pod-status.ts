// Pod status from what the worker observed, the way the kubelet computes it: phase, conditions, container statuses.
// Pure; lastTransitionTime only moves when a condition's status flips, so an unchanged pod yields an equal status and
// no write.
import type { Condition, ContainerStatus, Pod, PodStatus } from './kube-types.js';

export interface PodObservation {
  podIP?: string;
  hostIP: string;
  /** Network namespace and volumes are in place. */
  sandboxReady: boolean;
  /** Every init container has completed successfully. */
  initialized: boolean;
  initContainerStatuses: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  nowIso: string;
}

type Phase = NonNullable<PodStatus['phase']>;

/** The kubelet's getPhase, restricted to what we model. */
export function podPhase(
  restartPolicy: string | undefined,
  initialized: boolean,
  statuses: readonly ContainerStatus[],
): Phase {
  if (!initialized) return 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) stopped++;
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0 && stopped === statuses.length) {
    const policy = restartPolicy ?? 'Always';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded && statuses.every((s) => s.state.terminated)) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(
  prev: readonly Condition[] | undefined,
  type: string,
  ok: boolean,
  reason: string | undefined,
  message: string | undefined,
  nowIso: string,
): Condition {
  const status = ok ? 'True' : 'False';
  const old = prev?.find((c) => c.type === type);
  const c: Condition = {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime:
      old !== undefined && old.status === status && old.lastTransitionTime !== undefined
        ? old.lastTransitionTime
        : nowIso,
  };
  if (!ok && reason !== undefined) c.reason = reason;
  if (!ok && message !== undefined) c.message = message;
  return c;
}

function notReadyNames(statuses: readonly ContainerStatus[]): string[] {
  return statuses.filter((s) => !s.ready).map((s) => s.name);
}

export function computePodStatus(pod: Pod, o: PodObservation): PodStatus {
  const prev = pod.status;
  const prevConds = prev?.conditions;
  const containersReady =
    o.initialized && o.containerStatuses.length > 0 && o.containerStatuses.every((s) => s.ready);
  const gatesOk = (pod.spec.readinessGates ?? []).every(
    (g) => prevConds?.find((c) => c.type === g.conditionType)?.status === 'True',
  );
  const unready = notReadyNames(o.containerStatuses);
  const unreadyMsg = `containers with unready status: [${unready.join(' ')}]`;
  const pendingInit = o.initContainerStatuses
    .filter((s) => !(s.state.terminated && s.state.terminated.exitCode === 0))
    .map((s) => s.name);

  const conditions: Condition[] = [
    condition(prevConds, 'PodReadyToStartContainers', o.sandboxReady, undefined, undefined, o.nowIso),
    condition(
      prevConds,
      'Initialized',
      o.initialized,
      'ContainersNotInitialized',
      `containers with incomplete status: [${pendingInit.join(' ')}]`,
      o.nowIso,
    ),
    condition(
      prevConds,
      'Ready',
      containersReady && gatesOk,
      containersReady ? 'ReadinessGatesNotReady' : 'ContainersNotReady',
      containersReady ? 'the status of pod readiness gate is not "True"' : unreadyMsg,
      o.nowIso,
    ),
    condition(prevConds, 'ContainersReady', containersReady, 'ContainersNotReady', unreadyMsg, o.nowIso),
  ];
  // Conditions owned by others (PodScheduled from the scheduler, readiness gates, DisruptionTarget) are kept as is.
  const ours = new Set(conditions.map((c) => c.type));
  for (const c of prevConds ?? []) if (!ours.has(c.type)) conditions.push(c);
  if (!conditions.some((c) => c.type === 'PodScheduled'))
    conditions.push({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: o.nowIso,
    });

  const status: PodStatus = {
    phase: podPhase(pod.spec.restartPolicy, o.initialized, o.containerStatuses),
    conditions,
    hostIP: o.hostIP,
    hostIPs: [{ ip: o.hostIP }],
    startTime: prev?.startTime ?? o.nowIso,
    containerStatuses: o.containerStatuses,
  };
  if (o.podIP !== undefined) {
    status.podIP = o.podIP;
    status.podIPs = [{ ip: o.podIP }];
  }
  if (o.initContainerStatuses.length > 0) status.initContainerStatuses = o.initContainerStatuses;
  if (prev?.qosClass !== undefined) status.qosClass = prev.qosClass;
  return status;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined && x !== null) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** Compares as the API would store it: key order, null and absent fields do not count as changes. */
export function sameStatus(a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  const sortConds = (s: PodStatus | undefined): unknown =>
    s === undefined
      ? {}
      : { ...s, conditions: [...(s.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)) };
  return JSON.stringify(canonical(sortConds(a))) === JSON.stringify(canonical(sortConds(b)));
}
