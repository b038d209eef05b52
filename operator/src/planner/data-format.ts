// The data format a shard writes follows the version the spec names (node/shared/versioning/data-format.ts):
// - raised once every member of the shard runs the spec's version and reports that it reads the new format: the
//   last step of an upgrade (the members themselves refuse it while a member of the configuration cannot read it);
// - set back before a downgrade the user accepted restarts any member on a release that cannot read it, and the
//   rollout waits until every member applied it (each rewrites its snapshot in the older format).
import { dataFormatFeature, dataFormatOfVersion } from '../../../node/shared/versioning/data-format.js';
import type { ShardView } from './shard-view.js';
import { waitStep, type Step } from './step.js';

function shardFormats(view: ShardView): { leader: number | undefined; highest: number } {
  const leaderPod = view.leader === undefined ? undefined : view.podByName.get(view.leader.name);
  const formats = view.pods.flatMap((p) =>
    p.identity?.dataFormat === undefined ? [] : [p.identity.dataFormat],
  );
  return { leader: leaderPod?.identity?.dataFormat, highest: Math.max(0, ...formats) };
}

/** Before a member restarts on a release that cannot read the shard's format: set the format back, then wait. */
export function lowerDataFormat(view: ShardView): Step | undefined {
  const ceiling = dataFormatOfVersion(view.spec.version);
  if (ceiling === undefined) return undefined;
  const { leader, highest } = shardFormats(view);
  if (highest <= ceiling) return undefined;
  const why = `${view.spec.version} reads data formats up to ${ceiling}`;
  if (leader !== undefined && leader > ceiling) {
    return {
      type: 'Upgrade',
      step: 'LowerDataFormat',
      message: `shard ${view.shard}: setting the data format back ${leader} → ${ceiling} before the downgrade (${why})`,
      shard: view.shard,
      action: { type: 'SetDataFormat', shard: view.shard, format: ceiling },
    };
  }
  const behind = view.pods.filter((p) => (p.identity?.dataFormat ?? 0) > ceiling).map((p) => p.name);
  return waitStep(
    view,
    'Upgrade',
    'LowerDataFormat',
    `shard ${view.shard}: waiting for ${behind.join(', ')} to apply data format ${ceiling} (${why})`,
  );
}

/** Once every member runs a release that reads a newer format than the shard writes: raise it (the upgrade's end). */
export function raiseDataFormat(view: ShardView): Step | undefined {
  const ceiling = dataFormatOfVersion(view.spec.version);
  if (ceiling === undefined) return undefined;
  // Every member of the configuration must have answered as a pod of this shard: an unknown member may be old.
  const reads: number[] = [];
  for (const m of view.members) {
    const identity = view.podByName.get(m.name)?.identity;
    if (identity?.maxDataFormat === undefined || identity.id !== m.id) return undefined;
    reads.push(identity.maxDataFormat);
  }
  const target = Math.min(ceiling, ...reads);
  const { leader } = shardFormats(view);
  if (leader === undefined || leader >= target) return undefined;
  const feature = dataFormatFeature(target);
  return {
    type: 'Upgrade',
    step: 'RaiseDataFormat',
    message:
      `shard ${view.shard}: every member runs ${view.spec.version}: raising the data format ${leader} → ${target}` +
      (feature !== '' ? ` (${feature})` : ''),
    shard: view.shard,
    action: { type: 'SetDataFormat', shard: view.shard, format: target },
  };
}
