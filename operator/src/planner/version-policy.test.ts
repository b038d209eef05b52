// The version policy against the simulated world: members report their version and the data formats they read, the
// group's format changes only by SetDataFormat, and the world itself flags a member that starts on a release that
// cannot read the group's format, or a raise while a member cannot read it.
import { describe, expect, test } from '@jest/globals';
import { ALLOW_DOWNGRADE_ANNOTATION, type RaftClusterSpec } from '../api/raftcluster.js';
import type { Plan } from './action.js';
import { plan } from './plan.js';
import { judgeVersion, podVersion } from './version-policy.js';
import {
  apply,
  baseSpec,
  clone,
  convergedWorld,
  observe,
  runToDone,
  tick,
  type SimWorld,
} from '../../testing/sim-world.js';

const NOW = new Date('2026-01-01T00:00:00Z');

function onVersion(version: string): SimWorld {
  return convergedWorld(baseSpec({ version }), NOW);
}

function withSpec(w: SimWorld, patch: Partial<RaftClusterSpec>): SimWorld {
  const c = clone(w);
  c.spec = { ...c.spec, ...patch };
  return c;
}

function acted(plans: Plan[]): string[] {
  return plans.map((p) => p.action.type).filter((t) => t !== 'Wait');
}

describe('version policy', () => {
  test('a new cluster starts on the base format and is raised once every founder reads the newer one', () => {
    const w = onVersion('0.2.0');
    expect(w.violations).toEqual([]);
    expect(w.dataFormat).toBe(2);
    const w1 = onVersion('0.1.0');
    expect(w1.dataFormat).toBe(1);
  });

  test('upgrade 0.1.0 → 0.2.0: mixed versions run on format 1; the format is raised only after the last member', () => {
    const w = withSpec(onVersion('0.1.0'), { version: '0.2.0' });
    const seen: { versions: string[]; format: number; reason: string }[] = [];
    const plans: Plan[] = [];
    for (let i = 0; i < 200; i++) {
      const observed = observe(w);
      const p = plan(observed, NOW);
      plans.push(p);
      const versions = observed.shards[0]!.pods.flatMap((pod) => podVersion(pod) ?? []);
      seen.push({ versions: [...new Set(versions)].sort(), format: w.dataFormat, reason: p.version.reason });
      if (p.action.type === 'Done') break;
      apply(w, p.action);
      tick(w);
    }
    expect(w.violations).toEqual([]);
    expect(acted(plans).at(-2)).toBe('SetDataFormat');
    expect(plans.at(-2)!.action).toEqual({ type: 'SetDataFormat', shard: 0, format: 2 });
    expect(plans.at(-2)!.operation?.step).toBe('RaiseDataFormat');
    expect(acted(plans).filter((t) => t === 'DeletePod')).toHaveLength(3);
    expect(w.dataFormat).toBe(2);
    // The cluster ran mixed for a while, always on format 1, reported as an upgrade under way.
    const mixed = seen.filter((s) => s.versions.length === 2);
    expect(mixed.length).toBeGreaterThan(0);
    expect(mixed.every((s) => s.format === 1 && s.reason === 'Upgrading')).toBe(true);
    expect(plans.at(-1)!.version).toMatchObject({ accepted: true, reason: 'Running' });
  });

  test('an upgrade that skips a minor version is refused and rolls nothing out', () => {
    const w = withSpec(onVersion('0.1.0'), { version: '0.3.0' });
    const verdict = judgeVersion(observe(w));
    expect(verdict).toMatchObject({ accepted: false, reason: 'SkipsMinorVersion' });
    expect(verdict.message).toBe(
      'upgrade 0.1.0 → 0.3.0 skips a minor version: go one minor version at a time (0.1 → 0.2 first); ' +
        'members stay on 0.1.0',
    );
    const plans = runToDone(w, NOW);
    expect(acted(plans)).toEqual(['Done']);
    expect(w.pods.every((p) => p.image === 'raftstore/node:0.1.0')).toBe(true);
  });

  test('a patch release and a one-minor step are accepted; a major step only from x.y to x+1.0', () => {
    const judge = (from: string, to: string): string => {
      const v = judgeVersion(observe(withSpec(onVersion(from), { version: to })));
      return v.accepted ? v.reason : `refused ${v.reason}`;
    };
    expect(judge('0.1.0', '0.1.7')).toBe('Upgrading');
    expect(judge('0.2.0', '0.2.1-rc.1')).toBe('Upgrading');
    expect(judge('1.4.2', '2.0.0')).toBe('Upgrading');
    expect(judge('1.4.2', '2.1.0')).toBe('refused SkipsMinorVersion');
    expect(judge('1.4.2', '3.0.0')).toBe('refused SkipsMinorVersion');
    expect(judge('0.2.0', '0.1.5')).toBe('refused DowngradeAcrossDataFormat');
    expect(judge('0.3.0', '0.1.0')).toBe('refused SkipsMinorVersion');
  });

  test('a downgrade across a data format is refused without the annotation: nothing restarts', () => {
    const w = withSpec(onVersion('0.2.0'), { version: '0.1.0' });
    const verdict = judgeVersion(observe(w));
    expect(verdict).toMatchObject({ accepted: false, reason: 'DowngradeAcrossDataFormat' });
    expect(verdict.message).toMatch(
      /^downgrade 0\.2\.0 → 0\.1\.0 refused: the members write data format 2 \(compressed snapshots \(snapshot format 4\)\) and 0\.1\.0 reads formats up to 1\. To accept it, annotate the cluster raftstore\.dev\/allow-downgrade=0\.1\.0/,
    );
    expect(acted(runToDone(w, NOW))).toEqual(['Done']);
    expect(w.pods.every((p) => p.image === 'raftstore/node:0.2.0')).toBe(true);
    expect(w.dataFormat).toBe(2);
    // An annotation naming another version accepts nothing.
    w.annotations = { [ALLOW_DOWNGRADE_ANNOTATION]: '0.1.1' };
    expect(judgeVersion(observe(w)).accepted).toBe(false);
  });

  test('an accepted downgrade sets the format back before the first member restarts on the older release', () => {
    const w = withSpec(onVersion('0.2.0'), { version: '0.1.0' });
    w.annotations = { [ALLOW_DOWNGRADE_ANNOTATION]: '0.1.0' };
    expect(judgeVersion(observe(w))).toMatchObject({ accepted: true, reason: 'DowngradeAccepted' });
    const plans = runToDone(w, NOW);
    expect(w.violations).toEqual([]);
    const firstFormat = plans.findIndex((p) => p.action.type === 'SetDataFormat');
    const firstRestart = plans.findIndex((p) => p.action.type === 'DeletePod');
    expect(plans[firstFormat]!.action).toEqual({ type: 'SetDataFormat', shard: 0, format: 1 });
    expect(plans[firstFormat]!.operation?.step).toBe('LowerDataFormat');
    expect(firstFormat).toBeLessThan(firstRestart);
    expect(w.dataFormat).toBe(1);
    expect(w.pods.every((p) => p.image === 'raftstore/node:0.1.0')).toBe(true);
  });

  test('the simulated world catches a member restarted on a release that cannot read the format (planted bug)', () => {
    // What a planner without the policy would do: roll 0.1.0 out while the group writes format 2.
    const w = onVersion('0.2.0');
    w.spec = { ...w.spec, version: '0.1.0' };
    apply(w, { type: 'ApplyChildren' });
    apply(w, { type: 'DeletePod', shard: 0, name: w.pods[2]!.name });
    tick(w);
    tick(w);
    expect(w.violations).toEqual(['demo-2 on 0.1.0 cannot read data format 2']);
    // And a raise while a member cannot read the new format.
    const v = onVersion('0.1.0');
    apply(v, { type: 'SetDataFormat', shard: 0, format: 2 });
    expect(v.violations).toContain('SetDataFormat(2) while demo-0 cannot read it');
  });

  test('rolling an upgrade back before the format was raised needs no annotation', () => {
    const w = withSpec(onVersion('0.1.0'), { version: '0.2.0' });
    // Upgrade one member, then change the mind.
    for (let i = 0; i < 200 && !w.pods.some((p) => p.image.endsWith(':0.2.0') && p.running); i++) {
      const p = plan(observe(w), NOW);
      apply(w, p.action);
      tick(w);
    }
    const back = withSpec(w, { version: '0.1.0' });
    expect(judgeVersion(observe(back))).toMatchObject({ accepted: true, reason: 'Downgrading' });
    runToDone(back, NOW);
    expect(back.violations).toEqual([]);
    expect(back.dataFormat).toBe(1);
    expect(back.pods.every((p) => p.image === 'raftstore/node:0.1.0')).toBe(true);
  });

  test('two minor versions past the oldest member: the upgrade under way finishes first, then the next step', () => {
    const w = withSpec(onVersion('0.1.0'), { version: '0.2.0' });
    for (let i = 0; i < 200 && !w.pods.some((p) => p.image.endsWith(':0.2.0') && p.running); i++) {
      const p = plan(observe(w), NOW);
      apply(w, p.action);
      tick(w);
    }
    const skip = withSpec(w, { version: '0.3.0' });
    const verdict = judgeVersion(observe(skip));
    expect(verdict).toMatchObject({ accepted: false, reason: 'SkipsMinorVersion' });
    expect(verdict.message).toMatch(/^upgrade 0\.1\.0 → 0\.3\.0 skips a minor version/);
    // Step by step: a 0.3.0 member never runs beside a 0.1.0 one.
    for (let i = 0; i < 200; i++) {
      const versions = new Set(skip.pods.map((p) => p.image.slice(p.image.lastIndexOf(':') + 1)));
      expect(versions.has('0.1.0') && versions.has('0.3.0')).toBe(false);
      const p = plan(observe(skip), NOW);
      if (p.action.type === 'Done') break;
      apply(skip, p.action);
      tick(skip);
    }
    expect(skip.violations).toEqual([]);
    expect(skip.pods.every((p) => p.image === 'raftstore/node:0.3.0')).toBe(true);
    expect(skip.dataFormat).toBe(2);
  });
});
