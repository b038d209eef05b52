// WAL segment file names: `<seq>-<firstIndex>.wal`, both as 16 hex digits so names sort in write order.
// The sequence number orders segments (first indexes need not increase: a segment opened for an overwriting append
// is named after the overwritten index). The first index lets compaction find segments whose entries all lie at or
// below a snapshot without reading them: every entry of segment k that is still live has an index below the first
// index of segment k + 1.

import { assertU64 } from './binary.js';

export interface SegmentName {
  readonly seq: number;
  readonly firstIndex: number;
  readonly fileName: string;
}

const PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export function segmentName(seq: number, firstIndex: number): SegmentName {
  assertU64(seq, 'segment sequence');
  assertU64(firstIndex, 'segment first index');
  const hex = (n: number): string => n.toString(16).padStart(16, '0');
  return { seq, firstIndex, fileName: `${hex(seq)}-${hex(firstIndex)}.wal` };
}

/** Parses a segment file name; undefined for any other file. */
export function parseSegmentName(fileName: string): SegmentName | undefined {
  const m = PATTERN.exec(fileName);
  if (!m) return undefined;
  const seq = Number.parseInt(m[1]!, 16);
  const firstIndex = Number.parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(firstIndex)) return undefined;
  return { seq, firstIndex, fileName };
}

/**
 * How many leading segments hold only entries at or below `index`, so may be deleted. A live entry of segment j is
 * below the first index of every later segment, so segments 0..k may go when some segment after k starts at or
 * below `index + 1`. The last segment is always kept: appends go there, and it holds the latest hard state.
 */
export function removableSegmentCount(segments: readonly SegmentName[], index: number): number {
  let minFirstAfter = Number.POSITIVE_INFINITY;
  for (let k = segments.length - 2; k >= 0; k--) {
    minFirstAfter = Math.min(minFirstAfter, segments[k + 1]!.firstIndex);
    if (minFirstAfter <= index + 1) return k + 1;
  }
  return 0;
}
