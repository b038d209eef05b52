// When to run a container's probes and what their results mean, as pure state transitions (time injected).
import type { Probe } from './kube-types.js';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeState {
  kind: ProbeKind;
  result: ProbeResult;
  consecutiveSuccesses: number;
  consecutiveFailures: number;
  nextRunAtMs: number;
}

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** API defaults: period 10 s, timeout 1 s, success 1 (must be 1 for liveness/startup), failure 3. */
export function probeTiming(p: Probe, kind: ProbeKind): ProbeTiming {
  const t = {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: (p.periodSeconds ?? 10) * 1000,
    timeoutMs: (p.timeoutSeconds ?? 1) * 1000,
    successThreshold: kind === 'readiness' ? (p.successThreshold ?? 1) : 1,
    failureThreshold: p.failureThreshold ?? 3,
  };
  if (t.periodMs <= 0 || t.timeoutMs <= 0 || t.successThreshold < 1 || t.failureThreshold < 1)
    throw new Error(`invalid ${kind} probe ${JSON.stringify(p)}`);
  return t;
}

/** Readiness starts failed (not ready until proven), liveness starts passing (not killed until proven dead). */
export function initialProbeState(kind: ProbeKind, timing: ProbeTiming, startedAtMs: number): ProbeState {
  return {
    kind,
    result: kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown',
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
    nextRunAtMs: startedAtMs + timing.initialDelayMs,
  };
}

export function probeDue(s: ProbeState, nowMs: number): boolean {
  return nowMs >= s.nextRunAtMs;
}

export function recordProbe(s: ProbeState, timing: ProbeTiming, ok: boolean, nowMs: number): ProbeState {
  const successes = ok ? s.consecutiveSuccesses + 1 : 0;
  const failures = ok ? 0 : s.consecutiveFailures + 1;
  let result = s.result;
  if (ok && successes >= timing.successThreshold) result = 'success';
  if (!ok && failures >= timing.failureThreshold) result = 'failure';
  return {
    kind: s.kind,
    result,
    consecutiveSuccesses: successes,
    consecutiveFailures: failures,
    nextRunAtMs: nowMs + timing.periodMs,
  };
}

/** The probe outcome that makes the kubelet kill the container. */
export function probeDemandsRestart(s: ProbeState): boolean {
  return (s.kind === 'liveness' || s.kind === 'startup') && s.result === 'failure';
}
