// The trace report: joins the members' write traces (node/src/observability/write-trace.ts) by (term, index) and
// says, per stage of a write, how long it took — p50 / p90 / p99 / max over the sampled entries. Pure: the CLI
// (report-cli.ts) reads the files.
//
// The path of one write on a 3-member group: the leader queues and proposes it, persists it while sending it to
// both followers; the first follower to acknowledge it makes the quorum (with the leader: a follower's ack and the
// leader's own fsync, or two followers' acks — the leader does not wait for its own fsync), so the follower stages
// below are those of the fastest follower to ack.
import { TRACE_STAGES, type TraceRecord, type TraceStage } from '../../src/observability/write-trace.js';

export interface StageSpan {
  readonly name: string;
  readonly what: string;
}

/** The spans the report measures, in the order a write passes them. */
export const SPANS: readonly StageSpan[] = [
  { name: 'queue', what: 'leader: queued → proposed (waiting for the next Ready)' },
  { name: 'leader persist wait', what: 'leader: proposed → its persist starts' },
  { name: 'leader fsync', what: 'leader: persist start → durable' },
  { name: 'leader send', what: 'leader: proposed → append sent (first follower)' },
  { name: 'network out', what: 'append sent → received by the acking follower' },
  { name: 'follower persist wait', what: 'follower: received → its persist starts' },
  { name: 'follower fsync', what: 'follower: persist start → durable' },
  { name: 'follower ack', what: 'follower: durable → ack sent' },
  { name: 'ack → commit', what: 'ack sent → leader sees the entry committed (network back + leader loop)' },
  { name: 'apply', what: 'leader: committed → applied' },
  { name: 'reply', what: 'leader: applied → reply handed to the client service' },
  { name: 'total', what: 'leader: queued → reply' },
];

type Times = Partial<Record<TraceStage, number>>;

/** Every member's earliest time for each stage of one entry. */
interface EntryTrace {
  readonly term: number;
  readonly index: number;
  readonly byMember: Map<string, Times>;
}

export interface SpanStats {
  readonly name: string;
  readonly what: string;
  readonly count: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
}

export interface TraceReport {
  /** Sampled entries proposed by a traced leader and replied to. */
  readonly entries: number;
  /** Entries seen only partly (no proposing member, no reply, or no follower ack). */
  readonly incomplete: number;
  readonly spans: readonly SpanStats[];
}

const STAGES = new Set<string>(TRACE_STAGES);

/** One JSON line of a trace file, or a description of what is wrong with it. */
export function parseTraceLine(line: string): TraceRecord | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  const r = v as Partial<Record<keyof TraceRecord, unknown>>;
  if (typeof r.m !== 'string' || typeof r.s !== 'string' || !STAGES.has(r.s))
    return 'no member or unknown stage';
  if (typeof r.term !== 'number' || typeof r.i !== 'number' || typeof r.t !== 'number')
    return 'term, i and t must be numbers';
  return { m: r.m, s: r.s as TraceStage, term: r.term, i: r.i, t: r.t };
}

function group(records: Iterable<TraceRecord>): Map<string, EntryTrace> {
  const entries = new Map<string, EntryTrace>();
  for (const r of records) {
    const key = `${r.term}/${r.i}`;
    let e = entries.get(key);
    if (e === undefined) {
      e = { term: r.term, index: r.i, byMember: new Map() };
      entries.set(key, e);
    }
    let times = e.byMember.get(r.m);
    if (times === undefined) {
      times = {};
      e.byMember.set(r.m, times);
    }
    const seen = times[r.s];
    if (seen === undefined || r.t < seen) times[r.s] = r.t;
  }
  return entries;
}

/** The spans of one entry, or undefined when it was not seen from queue to reply with a follower's ack. */
function spansOf(e: EntryTrace): number[] | undefined {
  let leader: Times | undefined;
  const followers: Times[] = [];
  for (const times of e.byMember.values()) {
    if (times.proposed !== undefined) leader = times;
    else followers.push(times);
  }
  if (leader === undefined) return undefined;
  const acking = followers
    .filter((f) => f.acked !== undefined && f.received !== undefined)
    .sort((a, b) => a.acked! - b.acked!)[0];
  const L = leader;
  if (
    acking === undefined ||
    L.queued === undefined ||
    L.proposed === undefined ||
    L.persistStart === undefined ||
    L.persistEnd === undefined ||
    L.sent === undefined ||
    L.committed === undefined ||
    L.applied === undefined ||
    L.replied === undefined ||
    acking.persistStart === undefined ||
    acking.persistEnd === undefined
  )
    return undefined;
  const F = acking as Required<Times>;
  return [
    L.proposed - L.queued,
    L.persistStart - L.proposed,
    L.persistEnd - L.persistStart,
    L.sent - L.proposed,
    F.received - L.sent,
    F.persistStart - F.received,
    F.persistEnd - F.persistStart,
    F.acked - F.persistEnd,
    L.committed - F.acked,
    L.applied - L.committed,
    L.replied - L.applied,
    L.replied - L.queued,
  ];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function traceReport(records: Iterable<TraceRecord>): TraceReport {
  const perSpan: number[][] = SPANS.map(() => []);
  let entries = 0;
  let incomplete = 0;
  for (const e of group(records).values()) {
    const spans = spansOf(e);
    if (spans === undefined) {
      incomplete++;
      continue;
    }
    entries++;
    spans.forEach((v, i) => perSpan[i]!.push(v));
  }
  return {
    entries,
    incomplete,
    spans: SPANS.map((s, i) => {
      const sorted = perSpan[i]!.sort((a, b) => a - b);
      return {
        name: s.name,
        what: s.what,
        count: sorted.length,
        p50_ms: quantile(sorted, 0.5),
        p90_ms: quantile(sorted, 0.9),
        p99_ms: quantile(sorted, 0.99),
        max_ms: sorted.at(-1) ?? Number.NaN,
      };
    }),
  };
}

/** The report as a text table, milliseconds with three decimals. */
export function formatTraceReport(report: TraceReport, title: string): string {
  const ms = (v: number): string => (Number.isNaN(v) ? '-' : v.toFixed(3));
  const rows = report.spans.map((s) => [s.name, ms(s.p50_ms), ms(s.p90_ms), ms(s.p99_ms), ms(s.max_ms)]);
  const header = ['stage (ms)', 'p50', 'p90', 'p99', 'max'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    `${title}: ${report.entries} sampled writes traced end to end (${report.incomplete} incomplete)`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}
