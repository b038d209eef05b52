import {
  initialProbeState,
  probeDemandsRestart,
  probeDue,
  probeTiming,
  recordProbe,
} from './probe-schedule.js';

describe('probe schedule', () => {
  const timing = probeTiming(
    { initialDelaySeconds: 5, periodSeconds: 2, failureThreshold: 2, successThreshold: 2 },
    'readiness',
  );

  it('waits for the initial delay, then runs every period', () => {
    let s = initialProbeState('readiness', timing, 1_000);
    expect(probeDue(s, 5_999)).toBe(false);
    expect(probeDue(s, 6_000)).toBe(true);
    s = recordProbe(s, timing, true, 6_000);
    expect(s.nextRunAtMs).toBe(8_000);
  });
  it('readiness needs successThreshold successes and failureThreshold failures to flip', () => {
    let s = initialProbeState('readiness', timing, 0);
    expect(s.result).toBe('failure');
    s = recordProbe(s, timing, true, 0);
    expect(s.result).toBe('failure');
    s = recordProbe(s, timing, true, 0);
    expect(s.result).toBe('success');
    s = recordProbe(s, timing, false, 0);
    expect(s.result).toBe('success');
    s = recordProbe(s, timing, false, 0);
    expect(s.result).toBe('failure');
  });
  it('liveness starts passing and demands a restart after failureThreshold failures', () => {
    const t = probeTiming({ failureThreshold: 2, successThreshold: 5 }, 'liveness');
    expect(t.successThreshold).toBe(1);
    let s = initialProbeState('liveness', t, 0);
    expect(probeDemandsRestart(s)).toBe(false);
    s = recordProbe(s, t, false, 0);
    expect(probeDemandsRestart(s)).toBe(false);
    s = recordProbe(s, t, false, 0);
    expect(probeDemandsRestart(s)).toBe(true);
  });
  it('startup is unknown until it succeeds; readiness never demands a restart', () => {
    const t = probeTiming({}, 'startup');
    expect(initialProbeState('startup', t, 0).result).toBe('unknown');
    expect(recordProbe(initialProbeState('startup', t, 0), t, true, 0).result).toBe('success');
    const r = probeTiming({ failureThreshold: 1 }, 'readiness');
    expect(probeDemandsRestart(recordProbe(initialProbeState('readiness', r, 0), r, false, 0))).toBe(false);
  });
  it('rejects a zero period', () => {
    expect(() => probeTiming({ periodSeconds: 0 }, 'liveness')).toThrow(/invalid liveness probe/);
  });
});
