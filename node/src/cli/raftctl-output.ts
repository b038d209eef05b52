// What raftctl prints for the member commands whose answers need more than a line: pure, so the tables and messages
// are unit-tested without a cluster.
import {
  MemberRole,
  type SetDataFormatResponse,
  type StatusResponse,
} from '../../shared/api/generated/raftstore/v1/cluster.js';
import { reportedDataFormat } from '../../shared/versioning/data-format.js';
import { renderTable } from './table.js';

export const ROLE: Record<number, string> = {
  [MemberRole.MEMBER_ROLE_LEADER]: 'leader',
  [MemberRole.MEMBER_ROLE_FOLLOWER]: 'follower',
  [MemberRole.MEMBER_ROLE_LEARNER]: 'learner',
};

/** One endpoint's answer to Status, or why there is none. */
export interface StatusRow {
  readonly endpoint: string;
  readonly status?: StatusResponse;
  readonly error?: string;
}

/**
 * The rows as JSON. A member from before data formats leaves both format fields unset (0): they are reported as
 * the format such a member writes and reads, 1.
 */
export function statusJson(rows: readonly StatusRow[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      endpoint: r.endpoint,
      ...r.status,
      ...(r.status !== undefined
        ? {
            dataFormat: reportedDataFormat(r.status.dataFormat),
            maxDataFormat: reportedDataFormat(r.status.maxDataFormat),
          }
        : {}),
      error: r.error,
    })),
  );
}

export function statusTable(rows: readonly StatusRow[]): string {
  const header = [
    'ENDPOINT',
    'MEMBER',
    'ID',
    'ROLE',
    'LEADER',
    'TERM',
    'COMMIT',
    'APPLIED',
    'LAST INDEX',
    'LAST TERM',
    'VOTERS',
    'LEARNERS',
    'DATA FORMAT',
    'READS UP TO',
    'ERROR',
  ];
  return renderTable(
    header,
    rows.map(({ endpoint, status: s, error }) =>
      s
        ? [
            endpoint,
            s.member,
            s.id,
            ROLE[s.role] ?? 'unknown',
            s.leader,
            String(s.term),
            String(s.commit),
            String(s.applied),
            String(s.lastIndex),
            String(s.lastLogTerm),
            String(s.voters.length),
            String(s.learners.length),
            String(reportedDataFormat(s.dataFormat)),
            String(reportedDataFormat(s.maxDataFormat)),
            '',
          ]
        : [endpoint, ...header.slice(1, -1).map(() => ''), error ?? ''],
    ),
  );
}

/** The answer to `data-format set`, in words. */
export function dataFormatChangeText(shard: number, res: SetDataFormatResponse): string {
  return res.index === 0
    ? `shard ${shard} already writes data format ${res.format}; nothing changed`
    : `shard ${shard} data format ${res.previous} → ${res.format} (log index ${res.index})`;
}
