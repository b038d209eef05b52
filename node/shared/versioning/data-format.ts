// Data formats: what a member writes to its disk and sends to its peers that an older build may not read. A group
// writes one format at a time, set by a replicated entry (SetDataFormat) and raised only once every member reports
// that it reads the new one — etcd's cluster version, CockroachDB's finalisation. Both sides import this file: the
// node knows the newest format it reads and writes; the operator knows which release introduced which format, so
// it can tell whether going back to a release would leave members unable to read their own data.

import { parseSemVer } from './semver.js';

/** The format of a group that never set one, and of every release before data formats existed. */
export const BASE_DATA_FORMAT = 1;

/** The formats releases introduced, oldest first; each release also reads every earlier format. */
export const DATA_FORMAT_HISTORY: readonly { format: number; since: string; adds: string }[] = [
  { format: 2, since: '0.2.0', adds: 'compressed snapshots (snapshot format 4)' },
];

/** The newest data format this build reads and writes. */
export const MAX_DATA_FORMAT: number = DATA_FORMAT_HISTORY.at(-1)?.format ?? BASE_DATA_FORMAT;

/** A format as a member reported it: members from before data formats report 0, meaning the base format. */
export function reportedDataFormat(reported: number): number {
  return reported === 0 ? BASE_DATA_FORMAT : reported;
}

/**
 * The newest data format a release reads and writes, by its release line (a 0.2.0-rc build belongs to 0.2 and
 * writes what 0.2.0 writes); undefined when `version` is not a semantic version.
 */
export function dataFormatOfVersion(version: string): number | undefined {
  const v = parseSemVer(version);
  if (v === undefined) return undefined;
  let format = BASE_DATA_FORMAT;
  for (const entry of DATA_FORMAT_HISTORY) {
    const since = parseSemVer(entry.since);
    if (since === undefined) throw new Error(`DATA_FORMAT_HISTORY: ${entry.since} is not a semantic version`);
    const sameOrLaterLine = v.major > since.major || (v.major === since.major && v.minor >= since.minor);
    if (sameOrLaterLine) format = Math.max(format, entry.format);
  }
  return format;
}

/** What a data format adds, for messages ("compressed snapshots (snapshot format 4)"); "" for the base format. */
export function dataFormatFeature(format: number): string {
  return DATA_FORMAT_HISTORY.find((e) => e.format === format)?.adds ?? '';
}
