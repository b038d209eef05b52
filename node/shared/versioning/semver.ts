// Semantic versions as the operator's version policy compares them (semver.org 2.0.0 precedence): major, minor and
// patch numerically, a pre-release below its release, build metadata ignored. A leading "v" is accepted, as the
// RaftCluster schema accepts it.

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Dot-separated pre-release identifiers; empty for a release. */
  readonly prerelease: readonly string[];
}

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** Parses `text`, or returns undefined when it is not a semantic version. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text.trim());
  if (m === null) return undefined;
  const [major, minor, patch] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  return { major, minor, patch, prerelease: m[4] === undefined ? [] : m[4].split('.') };
}

/** Negative when a < b, 0 when they have the same precedence, positive when a > b. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  // A release ranks above any of its pre-releases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0)
    return Math.sign(b.prerelease.length - a.prerelease.length);
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i]!;
    const y = b.prerelease[i]!;
    const xNum = /^\d+$/.test(x);
    const yNum = /^\d+$/.test(y);
    if (xNum && yNum && Number(x) !== Number(y)) return Math.sign(Number(x) - Number(y));
    if (xNum !== yNum) return xNum ? -1 : 1; // numeric identifiers rank below alphanumeric ones
    if (x !== y) return x < y ? -1 : 1;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

/** "major.minor": the release line a version belongs to, as the one-minor-at-a-time rule counts. */
export function releaseLine(v: SemVer): string {
  return `${v.major}.${v.minor}`;
}
