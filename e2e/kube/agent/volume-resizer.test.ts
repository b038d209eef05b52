import { describe, expect, test } from '@jest/globals';
import type { PersistentVolume, PersistentVolumeClaim } from './kube-types.js';
import { growTarget, isHostPathVolumeOf } from './volume-resizer.js';

const claim = (requested: string, capacity: string | undefined, phase = 'Bound'): PersistentVolumeClaim => ({
  metadata: { name: 'data-demo-0', namespace: 'db' },
  spec: { volumeName: 'pvc-1', resources: { requests: { storage: requested } } },
  status: { phase, ...(capacity !== undefined ? { capacity: { storage: capacity } } : {}) },
});
const hostPathVolume: PersistentVolume = {
  metadata: { name: 'pvc-1' },
  spec: { capacity: { storage: '1Gi' }, hostPath: { path: '/tmp/hostpath_pv/x' } },
};

describe('volume expansion target', () => {
  test('a bound hostPath claim asking for more grows to what it asks', () => {
    expect(growTarget(claim('2Gi', '1Gi'))).toBe('2Gi');
    expect(growTarget(claim('1025Mi', '1Gi'))).toBe('1025Mi');
    expect(isHostPathVolumeOf(hostPathVolume, claim('2Gi', '1Gi'))).toBe(true);
  });

  test('nothing to do: already that size (in any unit), unbound, no capacity yet, another kind of volume', () => {
    expect(growTarget(claim('1Gi', '1Gi'))).toBeUndefined();
    expect(growTarget(claim('1024Mi', '1Gi'))).toBeUndefined();
    expect(growTarget(claim('2Gi', '1Gi', 'Pending'))).toBeUndefined();
    expect(growTarget(claim('2Gi', undefined))).toBeUndefined();
    expect(isHostPathVolumeOf({ metadata: { name: 'pvc-1' }, spec: {} }, claim('2Gi', '1Gi'))).toBe(false);
    expect(isHostPathVolumeOf({ ...hostPathVolume, metadata: { name: 'other' } }, claim('2Gi', '1Gi'))).toBe(
      false,
    );
    expect(isHostPathVolumeOf(undefined, claim('2Gi', '1Gi'))).toBe(false);
  });
});
