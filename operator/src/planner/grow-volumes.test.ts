import { describe, expect, test } from '@jest/globals';
import type { ObservedCluster } from '../model/observed.js';
import { baseSpec, observe, type SimWorld, convergedWorld } from '../../testing/sim-world.js';
import { growVolumes, shardVolumeGrowth, volumeSummary } from './grow-volumes.js';
import { plan } from './plan.js';

const NOW = new Date('2026-01-01T00:00:00Z');

const healthyWorld = (): SimWorld => convergedWorld(baseSpec(), NOW);

/**
 * A formed 3-member shard whose volumes and template were created at 1Gi, as the observer sees it, with the spec
 * asking for `size` and the class allowing expansion or not.
 */
function observedAt(
  size: string,
  volumes: { requested: string; capacity?: string; condition?: string }[] = [
    { requested: '1Gi', capacity: '1Gi' },
    { requested: '1Gi', capacity: '1Gi' },
    { requested: '1Gi', capacity: '1Gi' },
  ],
  template = '1Gi',
  /** null: the class is not known (not found). */
  storageClass: ObservedCluster['storageClass'] | null = { name: 'standard', allowsExpansion: true },
): ObservedCluster {
  const w = healthyWorld();
  w.spec = { ...w.spec, storage: { size } };
  const o = observe(w);
  const shard = o.shards[0]!;
  shard.statefulSet = { ...shard.statefulSet!, volumeSize: template };
  shard.pvcs = shard.pvcs.map((p, i) => {
    const v = volumes[i]!;
    return {
      ...p,
      requested: v.requested,
      ...(v.capacity !== undefined ? { capacity: v.capacity } : {}),
      ...(v.condition !== undefined ? { resizeCondition: v.condition } : {}),
      storageClassName: 'standard',
    };
  });
  return storageClass === null ? o : { ...o, storageClass };
}

describe('growing volumes', () => {
  test('nothing to do while every claim and the template have storage.size', () => {
    const o = observedAt('1Gi');
    expect(growVolumes(o)).toBeUndefined();
    expect(volumeSummary(o)).toEqual({ size: '1Gi', blocked: undefined, pending: [], total: 3 });
  });

  test('a larger size first asks every bound claim for it, in one non-disruptive step', () => {
    const o = observedAt('2Gi');
    const step = growVolumes(o);
    expect(step?.action).toEqual({
      type: 'ResizeClaims',
      shard: 0,
      size: '2Gi',
      claims: ['data-demo-0', 'data-demo-1', 'data-demo-2'],
    });
    expect(step?.type).toBe('GrowVolumes');
    // The plan takes it before anything else, and not as a Wait.
    expect(plan(o, NOW).action.type).toBe('ResizeClaims');
  });

  test('units are compared as bytes: 1024Mi is 1Gi, 1G is less than 1Gi', () => {
    expect(growVolumes(observedAt('1024Mi'))).toBeUndefined();
    const o = observedAt('1Gi', [
      { requested: '1G', capacity: '1G' },
      { requested: '1Gi', capacity: '1Gi' },
      { requested: '1073741824', capacity: '1073741824' },
    ]);
    expect(growVolumes(o)?.action).toMatchObject({ type: 'ResizeClaims', claims: ['data-demo-0'] });
  });

  test('then the StatefulSet is re-created with the new size; the claims already ask for it', () => {
    const asked = [
      { requested: '2Gi', capacity: '1Gi' },
      { requested: '2Gi', capacity: '1Gi' },
      { requested: '2Gi', capacity: '2Gi' },
    ];
    const step = growVolumes(observedAt('2Gi', asked));
    expect(step?.action).toEqual({ type: 'RecreateStatefulSet', shard: 0 });
    expect(step?.message).toMatch(/with 2Gi volumes \(was 1Gi\); its pods keep running/);
  });

  test('after that the condition follows the volumes until each has grown', () => {
    const asked = [
      { requested: '2Gi', capacity: '1Gi', condition: 'FileSystemResizePending: waiting for the node' },
      { requested: '2Gi', capacity: '2Gi' },
      { requested: '2Gi', capacity: '2Gi' },
    ];
    const o = observedAt('2Gi', asked, '2Gi');
    expect(growVolumes(o)).toBeUndefined();
    expect(volumeSummary(o)).toEqual({
      size: '2Gi',
      blocked: undefined,
      pending: ['data-demo-0: 1Gi (FileSystemResizePending: waiting for the node)'],
      total: 3,
    });
  });

  test('a claim not bound yet is left alone (its request cannot change), and is not reported as behind', () => {
    const o = observedAt(
      '2Gi',
      [{ requested: '1Gi', capacity: '1Gi' }, { requested: '1Gi', capacity: '1Gi' }, { requested: '2Gi' }],
      '2Gi',
    );
    expect(growVolumes(o)?.action).toMatchObject({ claims: ['data-demo-0', 'data-demo-1'] });
    expect(volumeSummary(o).pending).toEqual(['data-demo-0: 1Gi', 'data-demo-1: 1Gi']);
  });

  test('a class without allowVolumeExpansion: no step (the API server would refuse it), the condition says why', () => {
    const o = observedAt('2Gi', undefined, '1Gi', { name: 'fixed', allowsExpansion: false });
    expect(growVolumes(o)).toBeUndefined();
    expect(shardVolumeGrowth(o, o.shards[0]!)).toMatchObject({
      kind: 'blocked',
      reason: 'ExpansionNotAllowed',
    });
    const summary = volumeSummary(o);
    expect(summary.blocked?.message).toBe(
      'storage.size 2Gi cannot be reached: StorageClass fixed does not allow volume expansion ' +
        '(allowVolumeExpansion is not true); the volumes keep their size until an administrator allows it',
    );
    expect(summary.pending).toHaveLength(3);
    // Nothing else is held back: the cluster plans as if storage.size had not changed.
    expect(plan(o, NOW).action.type).toBe('Done');
  });

  test('an unknown class is not guessed to allow expansion', () => {
    const o = observedAt('2Gi', undefined, '1Gi', null);
    expect(growVolumes(o)).toBeUndefined();
    expect(volumeSummary(o).blocked).toEqual({
      reason: 'StorageClassNotFound',
      message:
        'storage.size 2Gi cannot be reached: StorageClass standard was not found, ' +
        'so whether it allows expansion is unknown',
    });
  });

  test('volumes of a shard being retired are not grown', () => {
    const o = observedAt('2Gi');
    const retiring = { ...o, cluster: { ...o.cluster, spec: { ...o.cluster.spec, shards: 0 } } };
    expect(growVolumes(retiring)).toBeUndefined();
  });
});
