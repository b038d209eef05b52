// Versions are a policy, not a string. Before anything rolls a new version out, the operator judges the change from
// what the members run (their own reports) and the data format they write:
// - one minor version at a time, up or down (CockroachDB's rule: each release migrates from the previous one only);
// - a downgrade to a release that cannot read the data format the members write is refused, unless the user
//   accepts it with the raftstore.dev/allow-downgrade annotation naming that version; the planner then sets the
//   format back before it restarts any member (etcd 3.6's `downgrade enable`).
// A refused change rolls nothing out: the planner keeps planning with the image the StatefulSets carry, so every
// other spec change still takes effect, and the VersionAccepted condition says why.
import { ALLOW_DOWNGRADE_ANNOTATION, type RaftCluster } from '../api/raftcluster.js';
import type { ObservedCluster, ObservedPod } from '../model/observed.js';
import {
  BASE_DATA_FORMAT,
  dataFormatFeature,
  dataFormatOfVersion,
} from '../../../node/shared/versioning/data-format.js';
import {
  compareSemVer,
  parseSemVer,
  releaseLine,
  type SemVer,
} from '../../../node/shared/versioning/semver.js';

export type VersionAcceptedReason = 'Running' | 'Upgrading' | 'Downgrading' | 'DowngradeAccepted';
export type VersionRefusedReason = 'SkipsMinorVersion' | 'DowngradeAcrossDataFormat';

export type VersionVerdict =
  | { accepted: true; reason: VersionAcceptedReason; message: string }
  | {
      accepted: false;
      reason: VersionRefusedReason;
      message: string;
      /** What the StatefulSets carry: planning goes on with it instead of the refused version. */
      keep: { image: string; version: string };
    };

/** The version a pod runs: its member's own report, else its image tag; undefined when neither is a version. */
export function podVersion(pod: ObservedPod): string | undefined {
  const reported = pod.identity?.version;
  if (reported !== undefined && parseSemVer(reported) !== undefined) return reported;
  const tag = pod.image.slice(pod.image.lastIndexOf(':') + 1);
  return pod.image.includes(':') && parseSemVer(tag) !== undefined ? tag : undefined;
}

/** The versions the live member pods run, newest first, with how many pods run each. */
export function runningVersions(observed: ObservedCluster): { version: string; members: number }[] {
  const counts = new Map<string, number>();
  for (const pod of observed.shards.flatMap((s) => s.pods)) {
    if (pod.deleting) continue;
    const v = podVersion(pod);
    if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts]
    .map(([version, members]) => ({ version, members }))
    .sort((a, b) => compareSemVer(parseSemVer(b.version)!, parseSemVer(a.version)!));
}

/** The data format the members write: the highest any member reports (1 before any member reported one). */
export function clusterDataFormat(observed: ObservedCluster): number {
  let format = BASE_DATA_FORMAT;
  for (const pod of observed.shards.flatMap((s) => s.pods)) {
    format = Math.max(format, pod.identity?.dataFormat ?? BASE_DATA_FORMAT);
  }
  return format;
}

/** Whether going from `from` to `to` crosses more than one minor version (or a major one other than x.y → x+1.0). */
function skipsMinor(from: SemVer, to: SemVer): boolean {
  const [lo, hi] = compareSemVer(from, to) <= 0 ? [from, to] : [to, from];
  if (hi.major === lo.major) return hi.minor - lo.minor > 1;
  return hi.major - lo.major > 1 || hi.minor > 0;
}

export function judgeVersion(observed: ObservedCluster): VersionVerdict {
  const { cluster } = observed;
  const target = cluster.spec.version;
  const to = parseSemVer(target);
  const running = runningVersions(observed);
  // Nothing runs yet (a new cluster), or the schema let an unparsable version through: nothing to compare with.
  if (to === undefined || running.length === 0) {
    return { accepted: true, reason: 'Running', message: `members start on ${target}` };
  }
  const newest = running[0]!.version;
  const oldest = running.at(-1)!.version;
  const format = clusterDataFormat(observed);
  const onTarget = running.find((r) => r.version === target)?.members ?? 0;
  const total = running.reduce((n, r) => n + r.members, 0);
  const refuse = (reason: VersionRefusedReason, message: string): VersionVerdict => ({
    accepted: false,
    reason,
    message: `${message}; members stay on ${newest}`,
    // The newest running version is what the StatefulSets carry: an upgrade already under way finishes.
    keep: { image: keptImage(observed, cluster), version: newest },
  });

  if (onTarget === total) {
    return {
      accepted: true,
      reason: 'Running',
      message: `every member runs ${target} (data format ${format})`,
    };
  }
  // Every running version must be within one minor version of the target (a mixed cluster counts its extremes).
  for (const from of [oldest, newest]) {
    if (skipsMinor(parseSemVer(from)!, to)) {
      const direction = compareSemVer(to, parseSemVer(from)!) > 0 ? 'upgrade' : 'downgrade';
      return refuse(
        'SkipsMinorVersion',
        `${direction} ${from} → ${target} skips a minor version: go one minor version at a time ` +
          `(${releaseLine(parseSemVer(from)!)} → ${nextLine(parseSemVer(from)!, to)} first)`,
      );
    }
  }
  const mixed = `${onTarget} of ${total} members run ${target}`;
  if (compareSemVer(to, parseSemVer(newest)!) >= 0) {
    return {
      accepted: true,
      reason: 'Upgrading',
      message:
        `upgrading ${oldest} → ${target}: ${mixed}; data format ${format}` +
        (dataFormatOfVersion(target)! > format ? ' until every member runs it' : ''),
    };
  }
  // A downgrade (or a rollback of an upgrade under way): can the target read what the members write?
  const readable = dataFormatOfVersion(target)!;
  if (format <= readable) {
    return { accepted: true, reason: 'Downgrading', message: `downgrading ${newest} → ${target}: ${mixed}` };
  }
  const crossed = `data format ${format}${dataFormatFeature(format) !== '' ? ` (${dataFormatFeature(format)})` : ''}`;
  if (cluster.metadata.annotations?.[ALLOW_DOWNGRADE_ANNOTATION] === target) {
    return {
      accepted: true,
      reason: 'DowngradeAccepted',
      message:
        `downgrading ${newest} → ${target} as ${ALLOW_DOWNGRADE_ANNOTATION} accepts: the members write ${crossed}, ` +
        `which ${target} cannot read, so the format goes back to ${readable} before any member restarts; ${mixed}`,
    };
  }
  return refuse(
    'DowngradeAcrossDataFormat',
    `downgrade ${newest} → ${target} refused: the members write ${crossed} and ${target} reads formats up to ` +
      `${readable}. To accept it, annotate the cluster ${ALLOW_DOWNGRADE_ANNOTATION}=${target}: the format is set ` +
      `back to ${readable} (every member rewrites its snapshot) before any member restarts on ${target}`,
  );
}

/** The release line one step from `from` toward `to`. */
function nextLine(from: SemVer, to: SemVer): string {
  const up = compareSemVer(to, from) > 0;
  if (up)
    return to.major > from.major && from.minor === 0
      ? `${from.major + 1}.0`
      : `${from.major}.${from.minor + 1}`;
  return from.minor > 0 ? `${from.major}.${from.minor - 1}` : `${from.major - 1}.x`;
}

/** The image the StatefulSets carry now (the first shard that has one); the spec's when none exists yet. */
function keptImage(observed: ObservedCluster, cluster: RaftCluster): string {
  return (
    observed.shards.find((s) => s.statefulSet !== undefined)?.statefulSet?.image ?? cluster.spec.image ?? ''
  );
}

/**
 * The cluster as the planner and the executor act on it: unchanged when the version change is accepted; with the
 * image and version the StatefulSets carry when it is refused, so nothing rolls toward the refused version.
 */
export function effectiveCluster(cluster: RaftCluster, verdict: VersionVerdict): RaftCluster {
  if (verdict.accepted) return cluster;
  return { ...cluster, spec: { ...cluster.spec, image: verdict.keep.image, version: verdict.keep.version } };
}
